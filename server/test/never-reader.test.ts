/**
 * A client that sends and never reads cannot grow the relay's memory (docs/protocol.md,
 * `MAX_BUFFERED_BYTES`): every byte queued for a connection counts, replies, notices, acks and
 * errors as much as relayed frames; identical errors are coalesced; a connection whose backlog
 * passes the limit is closed with 1013 (relay-parts.test.ts, exactly; `npm run soak`, by
 * flooding). The relay runs in its own process, and its heap is read from its /metrics while
 * the flood goes on, at default limits and with them raised.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EMPTY_BINARY_FRAME, neverReader, textFrame, type NeverReader } from './support/never-reader.ts';
import { spawnRelay, type RelayProcess } from './support/relay-process.ts';

/** Heap growth the relay may show under one never-reading sender (docs/protocol.md states it). */
const HEAP_BOUND_BYTES = 48 * 1024 * 1024;
const FLOOD_FRAMES = 200_000;
/** Join-and-leave pairs, each answered with a `joined` of about 230 bytes. */
const CYCLES = 60_000;
const RAISED = { MESSAGE_BURST: '10000000', MESSAGES_PER_SECOND: '10000000' };
const JOIN = textFrame('{"type":"join","room":"never-room","suite":"modern"}');
const JOIN_AND_LEAVE = Buffer.concat([JOIN, textFrame('{"type":"leave"}')]);

let relay: RelayProcess | undefined;
let client: NeverReader | undefined;
afterEach(async () => {
  client?.destroy();
  await relay?.kill();
  relay = client = undefined;
});

/** Floods `frame` while sampling the relay's heap; returns the largest growth seen and the time taken. */
async function floodWatchingHeap(
  frame: Buffer,
  count: number,
): Promise<{ growth: number; seconds: number; sent: number }> {
  if (!relay || !client) throw new Error('start the relay and the client first');
  const heap = () => relay!.metric('duet_nodejs_heap_size_used_bytes');
  const baseline = await heap();
  let peak = baseline;
  let flooding = true;
  const sampling = (async () => {
    while (flooding) {
      peak = Math.max(peak, await heap());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const started = Date.now();
  const sent = await client.flood(frame, count);
  const seconds = (Date.now() - started) / 1000;
  peak = Math.max(peak, await heap());
  flooding = false;
  await sampling;
  return { growth: peak - baseline, seconds, sent };
}

describe.each([
  ['at default limits', {}],
  ['with the rate limits raised', RAISED],
] as const)('a never-reading sender, %s', (_, env) => {
  it('alone in a room, sending empty frames: one error of each code a second, heap bounded', async () => {
    relay = await spawnRelay(env);
    client = await neverReader(relay.port);
    client.write(JOIN);
    const { growth, seconds } = await floodWatchingHeap(EMPTY_BINARY_FRAME, FLOOD_FRAMES);
    expect(growth).toBeLessThan(HEAP_BOUND_BYTES);
    // Each answer stands for all its kind in one interval: far fewer than the frames.
    const told =
      (await relay.sample('duet_errors_total{code="no-partner"}')) +
      (await relay.sample('duet_errors_total{code="rate-limited"}'));
    expect(told).toBeLessThanOrEqual(2 * (Math.ceil(seconds) + 2));
  });
});

describe('a never-reading sender whose every request is answered (join, leave, again)', () => {
  it('with the rate limits raised: heap bounded (the backlog closes it with 1013: relay-parts.test.ts)', async () => {
    relay = await spawnRelay(RAISED);
    client = await neverReader(relay.port);
    const { growth } = await floodWatchingHeap(JOIN_AND_LEAVE, CYCLES);
    expect(growth).toBeLessThan(HEAP_BOUND_BYTES);
  });
});
