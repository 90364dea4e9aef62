/**
 * `des` delivery over a failing network: no receipts, so the promise is "at least once, up to
 * the relay" (docs/delivery.md), and Duet's receiver drops the resent copies by their IV.
 * Alice's connection goes through a proxy that keeps cutting it, in the middle of bursts; Bob's
 * is steady, so every frame the relay reads reaches him and only Alice's drops matter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeClient, type NodeClient } from '@duet/cli/node-client';
import { startServer, type RunningServer } from '../src/server.ts';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.ts';
import { until } from './support/until.ts';

const MESSAGES = 300;

let server: RunningServer;
let proxy: FaultProxy;
beforeAll(async () => {
  server = await startServer({
    port: 0,
    host: '127.0.0.1',
    staticDir: '/nonexistent',
    messageBurst: 100_000,
    messagesPerSecond: 100_000,
    logLevel: 'silent',
  });
  proxy = await startFaultProxy({
    targetPort: server.port,
    seed: 20261130,
    maxCuts: 6,
    cutAfterBytes: [500, 4_000],
  });
});
afterAll(async () => {
  await proxy?.close();
  await server?.close();
});

describe('des through a failing network', () => {
  it(`${MESSAGES} messages: all sent, each shown once and in order, though copies were resent`, async () => {
    const common = {
      room: 'des-faults',
      passphrase: 'pass',
      suite: 'des' as const,
      reconnectDelaysMs: [20, 50],
    };
    const alice: NodeClient = await startNodeClient({ ...common, url: proxy.url });
    const bob: NodeClient = await startNodeClient({ ...common, url: `ws://127.0.0.1:${server.port}/ws` });
    await until(() => alice.conversation.status === 'ready' && bob.conversation.status === 'ready', 'ready');

    const texts = Array.from({ length: MESSAGES }, (_, i) => `alice #${i + 1}`);
    for (const [i, text] of texts.entries()) {
      alice.conversation.send(text);
      if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 5)); // some in flight at each cut
    }
    const settled = () => alice.events.filter((e) => e.type === 'delivery' && e.status === 'sent').length;
    await until(() => settled() === MESSAGES, 'every message sent', 60_000);
    await until(() => bob.received.length >= MESSAGES, 'every message received', 30_000);

    // At least once up to the relay; and since a frame is sent again byte for byte, Duet's
    // receiver drops the copies by their IV: every message shown once, in order.
    expect(bob.received).toEqual(texts);
    expect(alice.events.some((e) => e.type === 'delivery' && e.status === 'delivered')).toBe(false);
    expect(alice.events.some((e) => e.type === 'delivery' && e.status === 'failed')).toBe(false);
    expect(proxy.cuts()).toBeGreaterThan(0);
    // Copies were resent and relayed: the relay carried more frames than there are messages.
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const relayed = Number(/^duet_frames_relayed_total (\d+)$/m.exec(metrics)?.[1]);
    expect(relayed).toBeGreaterThan(MESSAGES);
    alice.conversation.leave();
    bob.conversation.leave();
  });
});
