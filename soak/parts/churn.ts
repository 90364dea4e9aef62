/**
 * Churn: pairs meet in a room, pass a frame, and one side ends in one of the six ways a
 * connection ends (leave, close 1000, 1001, no code, a cut, a protocol violation). Afterwards,
 * once held seats have had their grace period, the relay must hold no room, no connection,
 * and no more heap than it started with (give or take the garbage collector).
 */
import { TestClient } from '../../server/test/client.ts';
import { spawnRelay } from '../../server/test/support/relay-process.ts';
import { mib, sleep, type PartOptions, type PartResult } from './part.ts';

const ENDINGS = ['leave', 'close 1000', 'close 1001', 'close without code', 'cut', 'violation'] as const;
type Ending = (typeof ENDINGS)[number];
const CONCURRENCY = 40;
const SEAT_GRACE_MS = 500;

async function end(client: TestClient, how: Ending): Promise<void> {
  switch (how) {
    case 'leave':
      client.sendJson({ type: 'leave' });
      return client.close();
    case 'close 1000':
      return client.close(1000);
    case 'close 1001':
      return client.close(1001);
    case 'close without code':
      return client.socket.close();
    case 'cut':
      return client.cut();
    case 'violation':
      // A text frame that is not UTF-8: ws closes it with 1007, and the seat is freed.
      client.socket.send(Buffer.from([0xff, 0xfe]), { binary: false });
      await client.closed;
      return;
  }
}

export async function churn(options: PartOptions & { cycles: number }): Promise<PartResult> {
  const relay = await spawnRelay({ SEAT_GRACE_MS: String(SEAT_GRACE_MS), LOG_LEVEL: 'warn' });
  try {
    const heapBefore = await relay.metric('duet_nodejs_heap_size_used_bytes');
    const deadline = Date.now() + options.budgetMs;
    const byEnding = new Map<Ending, number>();
    let started = 0;
    let failures = 0;
    const worker = async (lane: number) => {
      while (started < options.cycles && Date.now() < deadline) {
        const cycle = started++;
        const how = ENDINGS[cycle % ENDINGS.length]!;
        const room = `churn-${lane}-${cycle}`;
        try {
          const a = await TestClient.connect(relay.url);
          const b = await TestClient.connect(relay.url);
          await a.join(room);
          await b.join(room);
          await a.control(); // partner-joined
          a.sendBinary(Buffer.from([cycle & 0xff]));
          await b.binary();
          await end(a, how);
          await a.closed;
          b.close();
          await b.closed;
          byEnding.set(how, (byEnding.get(how) ?? 0) + 1);
        } catch {
          failures += 1;
        }
      }
    };
    const t0 = Date.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, lane) => worker(lane)));
    const seconds = (Date.now() - t0) / 1000;
    await sleep(SEAT_GRACE_MS + 1_500); // held seats expire; the sweep of the last ones
    const rooms = await relay.metric('duet_rooms');
    const connections = await relay.metric('duet_connections');
    const heapAfter = await relay.metric('duet_nodejs_heap_size_used_bytes');
    const done = [...byEnding.values()].reduce((sum, n) => sum + n, 0);
    return {
      ok: failures === 0 && rooms === 0 && connections === 0,
      figures: {
        cycles: done,
        'cycles/s': Math.round(done / seconds),
        ...Object.fromEntries(ENDINGS.map((how) => [how, byEnding.get(how) ?? 0])),
        failures,
        'rooms left': rooms,
        'connections left': connections,
        'heap before (MiB)': mib(heapBefore),
        'heap after (MiB)': mib(heapAfter),
      },
    };
  } finally {
    await relay.kill();
  }
}
