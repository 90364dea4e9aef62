/**
 * Baseline: the least a relay built on Node and `ws` can do. Pairs the two sockets that name
 * the same room in the URL (`/?room=...`), tells both `paired` (one text frame), then forwards
 * each binary frame to the partner. No limits, no validation, no control protocol: the floor.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { BenchRelay } from '../relay-types.ts';

export async function startMinimalWsRelay(): Promise<BenchRelay> {
  const server = createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  const waiting = new Map<string, WebSocket>();
  const partners = new Map<WebSocket, WebSocket>();

  wss.on('connection', (socket, request) => {
    const room = new URL(request.url ?? '/', 'http://relay').searchParams.get('room') ?? '';
    const partner = waiting.get(room);
    if (partner && partner !== socket) {
      waiting.delete(room);
      partners.set(socket, partner);
      partners.set(partner, socket);
      socket.send('paired');
      partner.send('paired');
    } else {
      waiting.set(room, socket);
    }
    socket.on('message', (data, isBinary) => {
      const to = partners.get(socket);
      if (isBinary && to?.readyState === WebSocket.OPEN) to.send(data, { binary: true });
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (waiting.get(room) === socket) waiting.delete(room);
      const to = partners.get(socket);
      partners.delete(socket);
      if (to) partners.delete(to);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
      }),
  };
}
