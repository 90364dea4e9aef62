/**
 * Nothing lost, nothing doubled: two headless clients (the app's own Conversation, over `ws`)
 * chat through a proxy that keeps cutting their connections. Every message must be shown
 * exactly once, in order, and confirmed back to its sender.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeClient, type NodeClient } from '@duet/cli/node-client';
import { startServer, type RunningServer } from '../src/server.ts';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.ts';
import { until } from './support/until.ts';

const MESSAGES_EACH_WAY = Number(process.env.FAULT_MESSAGES ?? 1500);
const SEED = Number(process.env.FAULT_SEED ?? 20261129);

let server: RunningServer;
let proxy: FaultProxy;
beforeAll(async () => {
  server = await startServer({
    port: 0,
    host: '127.0.0.1',
    staticDir: '/nonexistent',
    messageBurst: 100_000,
    messagesPerSecond: 100_000,
    handshakeBurst: 50,
  });
  proxy = await startFaultProxy({
    targetPort: server.port,
    seed: SEED,
    maxCuts: 12,
    cutAfterBytes: [2_000, 60_000],
  });
});
afterAll(async () => {
  await proxy?.close();
  await server?.close();
});

/** Resolves when `predicate` holds; rejects after `ms`, saying where each client is. */
function waitFor(clients: NodeClient[], predicate: () => boolean, ms: number, what: string): Promise<void> {
  const state = () =>
    clients.map((c) => `${c.conversation.status}: received ${c.received.length}`).join('; ');
  return until(predicate, what, ms, state);
}

const delivered = (client: NodeClient) =>
  client.events.filter((event) => event.type === 'delivery' && event.status === 'delivered').length;

describe('delivery through a failing network', () => {
  it(`${MESSAGES_EACH_WAY} messages each way arrive exactly once and in order, despite cuts`, async () => {
    const common = {
      url: proxy.url,
      room: 'fault-room',
      passphrase: 'through thick and thin',
      reconnectDelaysMs: [20, 50, 100],
    };
    const alice = await startNodeClient(common);
    const bob = await startNodeClient(common);
    const clients = [alice, bob];
    await waitFor(
      clients,
      () => alice.conversation.status === 'ready' && bob.conversation.status === 'ready',
      30_000,
      'ready',
    );

    const expectedFrom = (who: string) =>
      Array.from({ length: MESSAGES_EACH_WAY }, (_, i) => `${who} #${i + 1}`);
    // Sent in bursts, so that some are in flight whenever a cut comes.
    for (let i = 0; i < MESSAGES_EACH_WAY; i++) {
      alice.conversation.send(`alice #${i + 1}`);
      bob.conversation.send(`bob #${i + 1}`);
      if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(
      clients,
      () => alice.received.length >= MESSAGES_EACH_WAY && bob.received.length >= MESSAGES_EACH_WAY,
      120_000,
      'all messages',
    );
    await waitFor(
      clients,
      () => delivered(alice) === MESSAGES_EACH_WAY && delivered(bob) === MESSAGES_EACH_WAY,
      60_000,
      'all receipts',
    );

    expect(bob.received).toEqual(expectedFrom('alice'));
    expect(alice.received).toEqual(expectedFrom('bob'));
    expect(proxy.cuts()).toBeGreaterThan(0);
    const reconnections = clients
      .flatMap((c) => c.events)
      .filter((e) => e.type === 'status' && e.status === 'reconnecting');
    expect(reconnections.length).toBeGreaterThan(0);
    alice.conversation.leave();
    bob.conversation.leave();
  });
});

describe('a relay restart', () => {
  it('clients reconnect after a graceful shutdown (1001), join again, and what was written meanwhile arrives', async () => {
    let relay = await startServer({ port: 0, host: '127.0.0.1', staticDir: '/nonexistent' });
    const port = relay.port;
    const common = {
      url: `ws://127.0.0.1:${port}/ws`,
      room: 'restart-room',
      passphrase: 'carry on',
      reconnectDelaysMs: [50, 100, 200],
    };
    const alice = await startNodeClient(common);
    const bob = await startNodeClient(common);
    const clients = [alice, bob];
    const bothReady = () => alice.conversation.status === 'ready' && bob.conversation.status === 'ready';
    await waitFor(clients, bothReady, 30_000, 'ready');
    alice.conversation.send('before the restart');
    await waitFor(clients, () => bob.received.length === 1, 10_000, 'first message');

    await relay.close(); // what SIGTERM does: every client is closed with 1001
    await waitFor(clients, () => alice.conversation.status === 'reconnecting', 10_000, 'reconnecting');
    alice.conversation.send('during the restart');
    relay = await startServer({ port, host: '127.0.0.1', staticDir: '/nonexistent' });
    // The new relay knows no seats: resume fails, both join again and run a new handshake.
    await waitFor(
      clients,
      () => bob.received.length === 2,
      30_000,
      'the message written while the relay was down',
    );
    expect(bob.received).toEqual(['before the restart', 'during the restart']);
    alice.conversation.leave();
    bob.conversation.leave();
    await relay.close();
  });
});
