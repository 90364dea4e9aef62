/**
 * The never-reading sender: a client that sends as fast as the relay takes frames and never
 * reads a byte. The relay's heap (from its /metrics, sampled as it goes) must stay within the
 * bound docs/protocol.md states, at default limits and with the rate limits raised; and a
 * sender whose requests are all answered must be closed with 1013 once its unread answers
 * pass MAX_BUFFERED_BYTES.
 */
import { EMPTY_BINARY_FRAME, neverReader, textFrame } from '../../server/test/support/never-reader.ts';
import { spawnRelay, type RelayProcess } from '../../server/test/support/relay-process.ts';
import { mib, sleep, type PartOptions, type PartResult } from './part.ts';

const RAISED = { MESSAGE_BURST: '100000000', MESSAGES_PER_SECOND: '100000000' };
/** docs/protocol.md, `MAX_BUFFERED_BYTES`: what one never-reading sender may add to the heap. */
export const HEAP_BOUND_MIB = 48;
const JOIN = textFrame('{"type":"join","room":"never-room","suite":"modern"}');
const JOIN_AND_LEAVE = Buffer.concat([JOIN, textFrame('{"type":"leave"}')]);

const dropped1013 = (relay: RelayProcess) => relay.sample('duet_connections_dropped_total{code="1013"}');

/** Floods for `ms` (or until the relay drops it), sampling the relay's heap; returns figures. */
async function flood(relay: RelayProcess, frame: Buffer, ms: number, first?: Buffer) {
  const client = await neverReader(relay.port);
  if (first) client.write(first);
  const heap = () => relay.metric('duet_nodejs_heap_size_used_bytes');
  const baseline = await heap();
  let peak = baseline;
  const t0 = Date.now();
  let frames = 0;
  let dropped = false;
  const sampler = setInterval(() => void heap().then((h) => (peak = Math.max(peak, h))), 200);
  while (Date.now() - t0 < ms && !dropped) {
    frames += await client.flood(frame, 20_000);
    dropped = (await dropped1013(relay)) > 0;
  }
  const seconds = (Date.now() - t0) / 1000;
  clearInterval(sampler);
  await sleep(300);
  peak = Math.max(peak, await heap());
  return { client, baseline, peak, seconds, frames, dropped };
}

export async function neverReading(options: PartOptions): Promise<PartResult> {
  const figures: Record<string, number | string> = {};
  let ok = true;
  const each = options.budgetMs / 3;
  for (const [label, env] of [
    ['defaults', {}],
    ['raised', RAISED],
  ] as const) {
    const relay = await spawnRelay({ ...env, LOG_LEVEL: 'warn' });
    try {
      const run = await flood(relay, EMPTY_BINARY_FRAME, each, JOIN);
      const told =
        (await relay.sample('duet_errors_total{code="no-partner"}')) +
        (await relay.sample('duet_errors_total{code="rate-limited"}'));
      const growth = run.peak - run.baseline;
      ok &&= mib(growth) < HEAP_BOUND_MIB;
      figures[`${label}: empty frames sent`] = run.frames;
      figures[`${label}: errors told`] = told;
      figures[`${label}: heap baseline, peak (MiB)`] = `${mib(run.baseline)}, ${mib(run.peak)}`;
      run.client.destroy();
    } finally {
      await relay.kill();
    }
  }
  const relay = await spawnRelay({ ...RAISED, LOG_LEVEL: 'warn' });
  try {
    const run = await flood(relay, JOIN_AND_LEAVE, each);
    ok &&= run.dropped && mib(run.peak - run.baseline) < HEAP_BOUND_MIB;
    figures['join/leave, raised: pairs sent'] = run.frames;
    figures['join/leave, raised: closed with 1013'] = run.dropped ? 'yes' : 'no: still open';
    figures['join/leave, raised: seconds to 1013'] = Math.round(run.seconds * 10) / 10;
    figures['join/leave, raised: heap baseline, peak (MiB)'] = `${mib(run.baseline)}, ${mib(run.peak)}`;
    run.client.destroy();
  } finally {
    await relay.kill();
  }
  return { ok, figures };
}
