/**
 * `npm run bench:browser`: time to a secure channel in Chromium, from both pages having joined
 * (the later of the two `joined` frames) to both showing `ready`, over several fresh pairs,
 * with and without 4× CPU throttling. Prints the median and range of each, and where the time
 * goes: each step of the handshake along its critical path, split into the page's own work
 * (from a frame's arrival to the next frame sent, or to `ready`) and the trips through the relay.
 * It also prints the joiner's whole wait, from its click on Join (the view drawn, the relay's
 * settings fetched, the socket opened, the seat taken) to both ready, and the first part of it,
 * up to its `join` sent. The joiner types its passphrase a key at a time before it clicks, as a
 * person would, while the page warms up.
 *
 * Timestamps are taken inside the pages (a wrapped WebSocket and a MutationObserver, injected
 * before the app loads), as `performance.timeOrigin + performance.now()`, so that both pages
 * share one clock. The script waits for `ready` on a promise the observer resolves, not with a
 * Playwright locator, whose polling would run in the pages during the handshake it times.
 * Opt-in, never part of `npm test`: it times things.
 *
 * With BENCH_BROWSER_BASELINE set to another version's built app (its web/dist), each pair of
 * this build is followed by one of that build, served by a second relay in this process: on a
 * busy machine the two then share the same load, which separate runs do not.
 *
 * With BENCH_BROWSER_RTT_MS set, the joiner's page reaches its relay through a loopback proxy
 * that holds every chunk for half that long each way (e2e/latency-proxy.ts): a phone's round trip
 * on the join's path, to time what the joiner waits through on a real link.
 *
 *   BENCH_BROWSER_RUNS=10 npm run bench:browser
 *   BENCH_BROWSER_BASELINE=../main/web/dist npm run bench:browser
 *   BENCH_BROWSER_RTT_MS=100 npm run bench:browser
 */
import type { Page } from 'playwright-core';
import { resolve } from 'node:path';
import { startServer } from '../server/src/server.ts';
import { startConversation, startHarness, type Harness } from './harness.ts';
import { startLatencyProxy } from './latency-proxy.ts';

const RUNS = Number(process.env.BENCH_BROWSER_RUNS ?? 10);
if (!Number.isSafeInteger(RUNS) || RUNS < 1) throw new Error('BENCH_BROWSER_RUNS must be a positive integer');
/** Another version's built app (its web/dist), timed pair for pair alongside this one. */
const BASELINE = process.env.BENCH_BROWSER_BASELINE;
/** Between two keys of the joiner's passphrase. */
const TYPING_MS = 40;
/** A round trip added to the joiner's link (0: none). */
const RTT_MS = Number(process.env.BENCH_BROWSER_RTT_MS ?? 0);
if (!Number.isFinite(RTT_MS) || RTT_MS < 0) throw new Error('BENCH_BROWSER_RTT_MS must be 0 or more');

interface Mark {
  what: string;
  at: number;
}

declare global {
  interface Window {
    __duetMarks?: Mark[];
    /** Resolves when the page first shows `ready`. */
    __duetReady?: Promise<void>;
  }
}

/**
 * Runs in the page before the app: marks every control frame by type, binary frames, a click
 * on Join, and `ready`. Plain JavaScript in a string: tsx's compiled functions may call helpers the page
 * does not have.
 */
const INSTRUMENT = `(() => {
  const marks = [];
  let shown;
  window.__duetMarks = marks;
  window.__duetReady = new Promise((resolve) => { shown = resolve; });
  const now = () => performance.timeOrigin + performance.now();
  const typeOf = (text) => { try { return JSON.parse(text).type ?? '?'; } catch { return '?'; } };
  const Native = window.WebSocket;
  class Marked extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener('message', (event) => {
        marks.push({ what: typeof event.data === 'string' ? 'got ' + typeOf(event.data) : 'got binary', at: now() });
      });
    }
    send(data) {
      marks.push({ what: typeof data === 'string' ? 'sent ' + typeOf(data) : 'sent binary', at: now() });
      super.send(data);
    }
  }
  window.WebSocket = Marked;
  document.addEventListener('click', (event) => {
    if (event.target instanceof Element && event.target.closest('[data-testid="join-button"]'))
      marks.push({ what: 'join click', at: now() });
  }, true);
  new MutationObserver(() => {
    const ready = document.querySelector('[data-testid="status"][data-state="ready"]');
    if (ready && !marks.some((mark) => mark.what === 'ready')) {
      marks.push({ what: 'ready', at: now() });
      shown();
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
})();`;

async function marksOf(page: Page): Promise<Mark[]> {
  return page.evaluate(() => window.__duetMarks ?? []);
}

/** When `marks` has `what` for the `n`th time (1: the first). */
const nth = (marks: Mark[], what: string, n = 1): number =>
  marks.filter((mark) => mark.what === what)[n - 1]?.at ?? NaN;
const first = (marks: Mark[], what: string): number => nth(marks, what);

/**
 * The handshake's critical path, step by step (A: the initiator, B: the responder), as
 * docs/security.md draws it: the relay grants the first attempt to both as B takes its seat
 * (A hears of B, then of the grant), the hellos cross, then Ya, Yb ‖ Tb and Ta go one way each. "A:" and "B:" steps are the page's own work,
 * from a frame's arrival to the next frame it sends (or to `ready`); "relay" steps are a frame's
 * trip through the relay, including any wait for the receiving page's main thread.
 */
const STEPS = [
  ['A: B here, granted', (a: Mark[]) => nth(a, 'got handshake') - nth(a, 'got partner-joined')],
  ["B's hello reaches A", (a: Mark[]) => nth(a, 'got binary', 1) - nth(a, 'got handshake')],
  ['A: Ya', (a: Mark[]) => nth(a, 'sent binary', 2) - nth(a, 'got binary', 1)],
  ['relay', (a: Mark[], b: Mark[]) => nth(b, 'got binary', 2) - nth(a, 'sent binary', 2)],
  ['B: Yb, Tb', (_a: Mark[], b: Mark[]) => nth(b, 'sent binary', 2) - nth(b, 'got binary', 2)],
  ['relay', (a: Mark[], b: Mark[]) => nth(a, 'got binary', 2) - nth(b, 'sent binary', 2)],
  ['A: Ta, keys', (a: Mark[]) => nth(a, 'sent binary', 3) - nth(a, 'got binary', 2)],
  ['relay', (a: Mark[], b: Mark[]) => nth(b, 'got binary', 3) - nth(a, 'sent binary', 3)],
  ['B: keys, ready', (_a: Mark[], b: Mark[]) => nth(b, 'ready') - nth(b, 'got binary', 3)],
] as const;

interface Run {
  total: number;
  /** From both seated to the later page's first handshake frame sent (notices, grant). */
  toFirstFrame: number;
  /** From the grant (the later page's) to both ready: the handshake's frames and crypto. */
  grantToReady: number;
  /** What the joiner waits through: from its click on Join to both ready. */
  clickToReady: number;
  /** The first part of it: the view drawn, the code and the settings loaded, the socket open. */
  clickToJoin: number;
  /** The STEPS, in order. */
  steps: number[];
}

/** A fresh browser context with the marks injected, its CPU slowed `cpuSlowdown` times, at `url`. */
async function instrumentedPage(harness: Harness, url: string, cpuSlowdown: number): Promise<Page> {
  const context = await harness.browser.newContext();
  await context.addInitScript(INSTRUMENT);
  const page = await context.newPage();
  if (cpuSlowdown !== 1) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: cpuSlowdown });
  }
  await page.goto(url);
  return page;
}

async function onePair(harness: Harness, cpuSlowdown: number): Promise<Run> {
  const alice = await instrumentedPage(harness, `${harness.url}/`, cpuSlowdown);
  const { link, passphrase } = await startConversation(alice);
  const proxy = RTT_MS > 0 ? await startLatencyProxy(new URL(harness.url), RTT_MS / 2) : undefined;
  const bob = await instrumentedPage(
    harness,
    proxy ? link.replace(harness.url, proxy.url) : link,
    cpuSlowdown,
  );
  // Typed as a person would (40 ms a key: five words in about a second and a half), not pasted
  // the instant the page loads: the page warms up while its reader types, and the bench should
  // not time a click no person could make.
  await bob.getByTestId('passphrase-input').pressSequentially(passphrase, { delay: TYPING_MS });
  await bob.getByTestId('join-button').click();
  await Promise.all([alice.evaluate(() => window.__duetReady), bob.evaluate(() => window.__duetReady)]);
  const [a, b] = await Promise.all([marksOf(alice), marksOf(bob)]);
  await Promise.all([alice.context().close(), bob.context().close()]);
  await proxy?.close();
  const seated = Math.max(first(a, 'got joined'), first(b, 'got joined'));
  const ready = Math.max(first(a, 'ready'), first(b, 'ready'));
  const frame = Math.max(first(a, 'sent binary'), first(b, 'sent binary'));
  const grant = Math.max(first(a, 'got handshake'), first(b, 'got handshake'));
  // The initiator is the first seated, the one told of its partner's arrival: alice, so far.
  const [initiator, responder] = first(a, 'got partner-joined') ? [a, b] : [b, a];
  return {
    total: ready - seated,
    toFirstFrame: frame - seated,
    grantToReady: ready - grant,
    clickToReady: ready - first(b, 'join click'),
    clickToJoin: first(b, 'sent join') - first(b, 'join click'),
    steps: STEPS.map(([, step]) => step(initiator, responder)),
  };
}

function summary(values: number[]): string {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[middle] ?? NaN)
      : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
  return `${median.toFixed(0)} ms (${(sorted[0] ?? NaN).toFixed(0)}–${(sorted.at(-1) ?? NaN).toFixed(0)})`;
}

/** The critical path's steps, one per line: median and range over the runs. */
function steps(runs: Run[]): string {
  return STEPS.map(
    ([name], i) => `  ${name.padEnd(20)} ${summary(runs.map((run) => run.steps[i] ?? NaN))}`,
  ).join('\n');
}

async function main(): Promise<void> {
  const harness = await startHarness();
  // This build, and the baseline's (if asked for) from a second relay in this process, so that
  // both meet the same browser and the same load on the machine, pair by pair.
  const builds: { name: string; harness: Harness; close?: () => Promise<void> }[] = [
    { name: BASELINE ? 'this build' : '', harness },
  ];
  try {
    if (BASELINE) {
      const relay = await startServer({ port: 0, host: '127.0.0.1', staticDir: resolve(BASELINE) });
      builds.push({ name: 'baseline', harness: { ...harness, url: relay.url }, close: () => relay.close() });
    }
    // One pair each first, unmeasured: the relay's and the browser's first-use costs.
    for (const build of builds) await onePair(build.harness, 1);
    for (const slowdown of [1, 4]) {
      const runs = builds.map((): Run[] => []);
      for (let i = 0; i < RUNS; i += 1) {
        // Each build plays first in every other round: with a fixed order, two copies of the
        // same code came out 10–20 ms apart (docs/benchmarks.md, 2026-12-02).
        const order = [...builds.keys()];
        if (i % 2 === 1) order.reverse();
        for (const b of order) runs[b]?.push(await onePair(builds[b]!.harness, slowdown));
      }
      for (const [b, build] of builds.entries()) {
        const done = runs[b] ?? [];
        console.log(
          `${build.name ? `${build.name}: ` : ''}time to secure, ${slowdown}× CPU, ${RUNS} pairs` +
            `${RTT_MS > 0 ? `, the joiner ${RTT_MS} ms away` : ''}: ` +
            `${summary(done.map((run) => run.total))}` +
            `; seated → first handshake frame ${summary(done.map((run) => run.toFirstFrame))}` +
            `; grant → both ready ${summary(done.map((run) => run.grantToReady))}` +
            `; the joiner's click on Join → both ready ${summary(done.map((run) => run.clickToReady))}` +
            ` (→ its join sent ${summary(done.map((run) => run.clickToJoin))})` +
            `\n${steps(done)}`,
        );
      }
    }
  } finally {
    for (const build of builds) await build.close?.();
    await harness.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
