/**
 * `npm run soak`: the long fault and load runs that `npm test` has only short versions of.
 * Each part is bounded in time and prints its figures; the exit status is 1 if any part's
 * promise did not hold. `npm run soak -- cuts-150 churn` runs only the parts named.
 * Results go to soak/results/latest.json; docs/delivery.md records the latest figures.
 * Run it alone on the machine: flock /tmp/duet-heavy.lock npm run soak
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { churn } from './parts/churn.ts';
import { cuts } from './parts/cuts.ts';
import { neverReading } from './parts/never-reader.ts';
import type { PartResult } from './parts/part.ts';
import { pausedReaders } from './parts/paused-readers.ts';
import { restarts } from './parts/restarts.ts';

const SEED = Number(process.env.SOAK_SEED ?? 20261130);
const CUT_MESSAGES = Number(process.env.SOAK_CUT_MESSAGES ?? 2_000);
const CUT_SECONDS = Number(process.env.SOAK_CUT_SECONDS ?? 60);

const PARTS: Record<string, { what: string; run: () => Promise<PartResult> }> = {
  churn: {
    what: '20,000 churn cycles, the six ways of ending in turn (at most 120 s)',
    run: () => churn({ cycles: 20_000, budgetMs: 120_000 }),
  },
  restarts: {
    what: '14 kills and restarts of npm start while two clients chat (at most 150 s)',
    run: () => restarts({ cycles: 14, budgetMs: 150_000 }),
  },
  'paused-readers': {
    what: '20 paused readers under a flood (at most 30 s)',
    run: () => pausedReaders({ pairs: 20, budgetMs: 30_000 }),
  },
  ...Object.fromEntries(
    [0, 40, 150].map((latencyMs) => [
      `cuts-${latencyMs}`,
      {
        what: `${CUT_MESSAGES} messages each way, cuts every 0.5-2 s for ${CUT_SECONDS} s, ${latencyMs} ms one-way latency`,
        run: () =>
          cuts({ latencyMs, messages: CUT_MESSAGES, seed: SEED + latencyMs, budgetMs: CUT_SECONDS * 1000 }),
      },
    ]),
  ),
  'never-reader': {
    what: 'a never-reading sender, at default limits and raised (about 60 s)',
    run: () => neverReading({ budgetMs: 60_000 }),
  },
};

const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!(name in PARTS)) {
    console.error(`unknown part ${name}; parts: ${Object.keys(PARTS).join(', ')}`);
    process.exit(2);
  }
}
const names = wanted.length > 0 ? wanted : Object.keys(PARTS);
const results: Record<string, PartResult & { seconds: number }> = {};
let allOk = true;
for (const name of names) {
  const part = PARTS[name]!;
  console.log(`\n== ${name}: ${part.what}`);
  const t0 = Date.now();
  let result: PartResult;
  try {
    result = await part.run();
  } catch (error) {
    result = { ok: false, figures: { error: error instanceof Error ? error.message : String(error) } };
  }
  const seconds = Math.round((Date.now() - t0) / 100) / 10;
  results[name] = { ...result, seconds };
  allOk &&= result.ok;
  const width = Math.max(...Object.keys(result.figures).map((key) => key.length));
  for (const [key, value] of Object.entries(result.figures)) console.log(`  ${key.padEnd(width)}  ${value}`);
  console.log(`  ${'took (s)'.padEnd(width)}  ${seconds}`);
  console.log(`  ${result.ok ? 'OK' : 'FAILED'}`);
}

const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(
  `${dir}latest.json`,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, seed: SEED, results }, null, 2)}\n`,
);
console.log(`\n${allOk ? 'every part held' : 'SOME PARTS FAILED'}; figures in soak/results/latest.json`);
process.exit(allOk ? 0 : 1);
