/**
 * A lost answer never costs a seat (docs/protocol.md, "Reconnecting"): the link is cut after
 * the relay has acted on `join` or `resume` but before its `joined` or `resumed` reaches the
 * client. The client must get its own seat back, never find a ghost of itself in the room, and
 * nothing may be lost, doubled or failed. In memory mode and in Redis mode (the two people on
 * two nodes).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startNodeClient, type NodeClient } from '@duet/cli/node-client';
import type { RunningServer, StartOptions } from '../src/server.ts';
import { bothReady, PERFECT, tally, waitFor } from './support/chat.ts';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.ts';
import { startRedis, type TestRedis } from './support/redis-server.ts';
import { startTestServer } from './support/servers.ts';

const MESSAGES = 20;
const LATENCY_MS = 40;

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await redis.flush();
});

/** Two relay nodes: the same one in memory mode, two sharing Redis in Redis mode. */
async function relays(mode: 'memory' | 'redis'): Promise<[RunningServer, RunningServer]> {
  const options: StartOptions = { logLevel: 'warn', ...(mode === 'redis' ? { redisUrl: redis.url } : {}) };
  const one = await startTestServer(options);
  cleanups.push(() => one.close());
  if (mode === 'memory') return [one, one];
  const two = await startTestServer(options);
  cleanups.push(() => two.close());
  return [one, two];
}

async function proxyTo(server: RunningServer, text: string, times: number): Promise<FaultProxy> {
  const proxy = await startFaultProxy({
    targetPort: server.port,
    seed: 7,
    latencyMs: LATENCY_MS,
    dropReply: { text, times },
  });
  cleanups.push(() => proxy.close());
  return proxy;
}

async function client(url: string, room: string): Promise<NodeClient> {
  const started = await startNodeClient({
    url,
    room,
    passphrase: 'lost and found',
    reconnectDelaysMs: [20, 50],
  });
  cleanups.push(() => started.conversation.leave());
  return started;
}

const direct = (server: RunningServer) => `ws://127.0.0.1:${server.port}/ws`;

function send(alice: NodeClient, bob: NodeClient, from: number, to: number): void {
  for (let i = from; i <= to; i++) {
    alice.conversation.send(`alice #${i}`);
    bob.conversation.send(`bob #${i}`);
  }
}

/** Every message must arrive once, in order, and be confirmed; nobody failed. */
async function expectAllDelivered(alice: NodeClient, bob: NodeClient): Promise<void> {
  const allDelivered = () =>
    tally('alice', alice, bob, MESSAGES).delivered === MESSAGES &&
    tally('bob', bob, alice, MESSAGES).delivered === MESSAGES;
  const failed = () => [alice, bob].some((c) => ['failed', 'closed'].includes(c.conversation.status));
  await waitFor([alice, bob], () => allDelivered() || failed(), 20_000, 'all delivered');
  expect(tally('alice', alice, bob, MESSAGES)).toEqual(PERFECT(MESSAGES));
  expect(tally('bob', bob, alice, MESSAGES)).toEqual(PERFECT(MESSAGES));
}

describe.each(['memory', 'redis'] as const)('a lost reply never costs a seat (%s mode)', (mode) => {
  it('the second in loses `joined` twice: it gets its own seat back, not room-full', async () => {
    const [one, two] = await relays(mode);
    const alice = await client(direct(one), `second-${mode}`);
    await waitFor([alice], () => alice.conversation.status === 'waiting', 10_000, 'alice waiting');
    const proxy = await proxyTo(two, '{"type":"joined"', 2);
    const bob = await client(proxy.url, `second-${mode}`);
    await waitFor([alice, bob], bothReady(alice, bob), 15_000, 'both ready');
    send(alice, bob, 1, MESSAGES);
    await expectAllDelivered(alice, bob);
    expect(proxy.droppedReplies()).toBe(2);
  });

  it('the first in loses `joined`: no ghost of itself keeps its partner out', async () => {
    const [one, two] = await relays(mode);
    const proxy = await proxyTo(one, '{"type":"joined"', 1);
    const alice = await client(proxy.url, `first-${mode}`);
    await waitFor(
      [alice],
      () => proxy.droppedReplies() === 1 && alice.conversation.status === 'waiting',
      10_000,
      'alice seated',
    );
    const bob = await client(direct(two), `first-${mode}`);
    await waitFor([alice, bob], bothReady(alice, bob), 15_000, 'both ready');
    send(alice, bob, 1, MESSAGES);
    await expectAllDelivered(alice, bob);
  });

  it('`resumed` is lost twice in a row: the seat comes back, with the same session', async () => {
    const [one, two] = await relays(mode);
    const proxy = await proxyTo(one, '{"type":"resumed"', 2);
    const alice = await client(proxy.url, `resume-${mode}`);
    const bob = await client(direct(two), `resume-${mode}`);
    await waitFor([alice, bob], bothReady(alice, bob), 15_000, 'both ready');
    send(alice, bob, 1, 5);
    proxy.cutAll();
    send(alice, bob, 6, MESSAGES);
    await expectAllDelivered(alice, bob);
    expect(proxy.droppedReplies()).toBe(2);
    // The seat was resumed, not joined afresh: one handshake for the whole conversation.
    const handshakes = alice.events.filter((e) => e.type === 'status' && e.status === 'handshaking');
    expect(handshakes).toHaveLength(1);
  });
});
