/**
 * Baseline: the relay many would write with socket.io. A `join` event puts the socket in a
 * room; once the room has two, both get `paired`; each binary `msg` event is forwarded to the
 * rest of the room with `socket.to(room).emit`. Default server settings.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import type { BenchRelay } from '../relay-types.ts';

export async function startSocketIoRelay(): Promise<BenchRelay> {
  const server = createServer();
  const io = new Server(server, { serveClient: false });

  io.on('connection', (socket) => {
    let joined: string | undefined;
    socket.on('join', (room: unknown) => {
      if (joined !== undefined || typeof room !== 'string') return;
      joined = room;
      void socket.join(room);
      if (io.sockets.adapter.rooms.get(room)?.size === 2) io.to(room).emit('paired');
    });
    socket.on('msg', (data: unknown) => {
      if (joined !== undefined) socket.to(joined).emit('msg', data);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => void io.close(() => resolve())),
  };
}
