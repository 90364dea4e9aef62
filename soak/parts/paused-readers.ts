/**
 * Paused readers: in each of N pairs one side stops reading while its partner sends large
 * frames as fast as it may. Each paused reader must be closed with 1013 (its seat held, the
 * partner told `partner-away`) instead of making the relay buffer without bound.
 */
import { randomBytes } from 'node:crypto';
import { pair } from '../../server/test/client.ts';
import { startTestServer } from '../../server/test/support/servers.ts';
import { median, type PartOptions, type PartResult } from './part.ts';

export async function pausedReaders(options: PartOptions & { pairs: number }): Promise<PartResult> {
  const server = await startTestServer({
    messageBurst: 100_000,
    messagesPerSecond: 100_000,
    logLevel: 'warn',
  });
  try {
    const frame = randomBytes(60 * 1024);
    const deadline = Date.now() + options.budgetMs;
    const one = async (i: number) => {
      const [a, b] = await pair(server.url, `paused-${i}`);
      b.socket.pause();
      const t0 = Date.now();
      let away = false;
      void a.control().then((message) => (away = message.type === 'partner-away'));
      // Bounded: at most 40 MB, or until the relay gives up on the paused reader.
      for (let sent = 0; sent < 700 && !away && Date.now() < deadline; sent++) {
        await new Promise<void>((resolve) => a.socket.send(frame, { binary: true }, () => resolve()));
      }
      const ms = Date.now() - t0;
      b.socket.resume();
      const { code } = await b.closed;
      a.close();
      return { code, ms, away };
    };
    const results = await Promise.all(Array.from({ length: options.pairs }, (_, i) => one(i)));
    const closed1013 = results.filter((r) => r.code === 1013 && r.away).length;
    const times = results.map((r) => r.ms);
    return {
      ok: closed1013 === options.pairs,
      figures: {
        'paused readers': options.pairs,
        'closed with 1013, partner told': closed1013,
        'time to close, median (ms)': median(times),
        'time to close, max (ms)': Math.max(...times),
      },
    };
  } finally {
    await server.close();
  }
}
