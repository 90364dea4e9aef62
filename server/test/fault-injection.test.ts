/**
 * Nothing lost, nothing doubled: two headless clients (the app's own Conversation, over `ws`)
 * chat through a proxy that keeps cutting their connections. Every message must be shown
 * exactly once, in order, and confirmed back to its sender.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeClient } from '@duet/cli/node-client';
import { startServer, type RunningServer } from '../src/server.ts';
import { bothReady, delivered, expectedFrom, PERFECT, tally, waitFor } from './support/chat.ts';
import { runCutCampaign } from './support/campaign.ts';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.ts';
import { spawnRelay } from './support/relay-process.ts';

const MESSAGES_EACH_WAY = Number(process.env.FAULT_MESSAGES ?? 1500);
const SEED = Number(process.env.FAULT_SEED ?? 20261129);
/** The slow-link campaign at CI sizes; `npm run soak` runs it for 60 s with 2,000 messages. */
const SLOW_MESSAGES = Number(process.env.FAULT_SLOW_MESSAGES ?? 300);
/** A schedule under which the relay before idempotent join/resume ended with room-full. */
const SLOW_SEED = Number(process.env.FAULT_SEED ?? 11);
const SLOW_SECONDS = Number(process.env.FAULT_SLOW_SECONDS ?? 20);

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
    await waitFor(clients, bothReady(alice, bob), 30_000, 'ready');

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

    expect(bob.received).toEqual(expectedFrom('alice', MESSAGES_EACH_WAY));
    expect(alice.received).toEqual(expectedFrom('bob', MESSAGES_EACH_WAY));
    expect(proxy.cuts()).toBeGreaterThan(0);
    const reconnections = clients
      .flatMap((c) => c.events)
      .filter((e) => e.type === 'status' && e.status === 'reconnecting');
    expect(reconnections.length).toBeGreaterThan(0);
    alice.conversation.leave();
    bob.conversation.leave();
  });
});

describe('delivery over a slow link (150 ms each way) that keeps failing', () => {
  it(
    `${SLOW_MESSAGES} messages each way over ${SLOW_SECONDS} s of cuts every 0.5-2 s: exactly once, in order, all delivered`,
    { timeout: SLOW_SECONDS * 1000 + 90_000 },
    async () => {
      // Default limits: the clients pace their retransmissions to the relay's rate.
      const relay = await startServer({
        port: 0,
        host: '127.0.0.1',
        staticDir: '/nonexistent',
        logLevel: 'warn',
      });
      const result = await runCutCampaign({
        targetPort: relay.port,
        seed: SLOW_SEED,
        latencyMs: 150,
        cutEveryMs: [500, 2_000],
        durationMs: SLOW_SECONDS * 1000,
        messages: SLOW_MESSAGES,
        room: 'slow-room',
        drainMs: 60_000,
      });
      expect(result.alice).toEqual(PERFECT(SLOW_MESSAGES));
      expect(result.bob).toEqual(PERFECT(SLOW_MESSAGES));
      expect(result.cuts).toBeGreaterThanOrEqual(SLOW_SECONDS / 2);
      expect(result.rateLimited).toBe(0);
      await relay.close();
    },
  );
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
    await waitFor(clients, bothReady(alice, bob), 30_000, 'ready');
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

  it(
    'at default limits, two clients chatting while the relay crashes (SIGKILL) and restarts: not one rate-limited, nothing lost',
    { timeout: 90_000 },
    async () => {
      let relay = await spawnRelay(); // default limits: MESSAGE_BURST 100, MESSAGES_PER_SECOND 50
      const port = relay.port;
      const common = {
        url: `ws://127.0.0.1:${port}/ws`,
        room: 'crash-room',
        passphrase: 'keep talking',
        reconnectDelaysMs: [50, 100, 200, 500], // 30 attempts: over 10 s for a relay process to start
      };
      const alice = await startNodeClient(common);
      const bob = await startNodeClient(common);
      const clients = [alice, bob];
      let sender: NodeJS.Timeout | undefined;
      try {
        await waitFor(clients, bothReady(alice, bob), 30_000, 'ready');
        // 40 messages a second each, 180 in all: the chat goes on through the crash.
        const TOTAL = 180;
        let sent = 0;
        sender = setInterval(() => {
          if (sent === TOTAL) return clearInterval(sender);
          sent += 1;
          alice.conversation.send(`alice #${sent}`);
          bob.conversation.send(`bob #${sent}`);
        }, 25);
        await waitFor(clients, () => bob.received.length >= 30, 20_000, 'chatting');
        await relay.kill('SIGKILL');
        const killedAt = sent;
        await waitFor(clients, () => alice.conversation.status === 'reconnecting', 10_000, 'reconnecting');
        // A backlog past the relay's burst before it comes back (the new relay knows no seats:
        // both join again, run a new handshake and send everything unconfirmed).
        await waitFor(clients, () => sent >= Math.min(TOTAL, killedAt + 110), 20_000, 'a backlog');
        relay = await spawnRelay({ PORT: String(port) });
        await waitFor(
          clients,
          () => sent === TOTAL && delivered(alice) === TOTAL && delivered(bob) === TOTAL,
          60_000,
          'all delivered',
        );
        expect(tally('alice', alice, bob, TOTAL)).toEqual(PERFECT(TOTAL));
        expect(tally('bob', bob, alice, TOTAL)).toEqual(PERFECT(TOTAL));
        const told = clients
          .flatMap((c) => c.events)
          .filter((e) => e.type === 'problem' && e.code === 'rate-limited');
        expect(told).toEqual([]);
        expect(await relay.sample('duet_errors_total{code="rate-limited"}')).toBe(0);
      } finally {
        clearInterval(sender);
        alice.conversation.leave();
        bob.conversation.leave();
        await relay.kill();
      }
    },
  );

  it('at default limits, 150 messages each written while the relay was down are paced: not one rate-limited', async () => {
    const options = { port: 0, host: '127.0.0.1', staticDir: '/nonexistent', logLevel: 'warn' } as const;
    let relay = await startServer(options);
    const port = relay.port;
    const common = {
      url: `ws://127.0.0.1:${port}/ws`,
      room: 'paced-room',
      passphrase: 'one at a time',
      reconnectDelaysMs: [50, 100, 200],
    };
    const alice = await startNodeClient(common);
    const bob = await startNodeClient(common);
    const clients = [alice, bob];
    await waitFor(clients, bothReady(alice, bob), 30_000, 'ready');
    await relay.close();
    await waitFor(clients, () => alice.conversation.status === 'reconnecting', 10_000, 'reconnecting');
    // More than the relay's burst (100 frames) each, waiting to go out at once.
    for (let i = 1; i <= 150; i++) {
      alice.conversation.send(`alice #${i}`);
      bob.conversation.send(`bob #${i}`);
    }
    relay = await startServer({ ...options, port });
    await waitFor(clients, () => delivered(alice) === 150 && delivered(bob) === 150, 60_000, 'all delivered');
    expect(tally('alice', alice, bob, 150)).toEqual(PERFECT(150));
    expect(tally('bob', bob, alice, 150)).toEqual(PERFECT(150));
    const rateLimited = clients
      .flatMap((c) => c.events)
      .filter((e) => e.type === 'problem' && e.code === 'rate-limited');
    expect(rateLimited).toEqual([]);
    alice.conversation.leave();
    bob.conversation.leave();
    await relay.close();
  });
});
