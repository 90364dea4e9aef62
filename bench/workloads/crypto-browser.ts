/**
 * Workload e, in Chromium: the `modern` message rates (workloads/ratchet-rates.ts) measured where
 * Duet runs, in a page. Node's WebCrypto hands every operation to a worker thread and back, about
 * 0.1–0.3 ms each here, so the Node figures mostly measure those hops; Chromium's WebCrypto costs
 * a fraction of that (docs/benchmarks.md). The rates code is bundled with esbuild and run in a
 * blank page served from loopback (WebCrypto needs a secure context; localhost is one).
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import type { measureRatchetRates, RatchetRounds } from './ratchet-rates.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ENTRY = fileURLToPath(new URL('../browser/ratchet-rates.entry.ts', import.meta.url));

/** The rounds, or why they could not be measured (no Chromium on this machine). */
export type BrowserRates = { rounds: RatchetRounds; browser: string } | { skipped: string };

export async function runCryptoInBrowser(ms: number, rounds: number): Promise<BrowserRates> {
  if (!existsSync(CHROMIUM)) return { skipped: `no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)` };
  const bundle = await build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0]?.text;
  if (!script) throw new Error('esbuild produced no bundle');
  const server = createServer((_, response) => {
    response.setHeader('content-type', 'text/html');
    response.end('<!doctype html><title>Duet crypto bench</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    await page.goto(`http://localhost:${(server.address() as AddressInfo).port}/`);
    await page.addScriptTag({ content: script });
    const measured = await page.evaluate(
      ([budget, count]) =>
        (globalThis as unknown as { duetRatchetRates: typeof measureRatchetRates }).duetRatchetRates(
          budget,
          count,
        ),
      [ms, rounds] as const,
    );
    return { rounds: measured, browser: `Chromium ${browser.version()}` };
  } finally {
    await browser.close();
    server.close();
  }
}
