/**
 * The page as a visitor's browser gets it: the JavaScript Chromium downloads before the app runs
 * (what index.html asks for; Vite's manifest must agree) stays under a budget, measured as
 * served (gzip), and the rest comes after first paint; everything is served precompressed with
 * the right caching headers; and the `des` code (crypto-js) is downloaded only by a page that
 * uses `des`.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openPage, startConversation, useHarness, type Harness } from './harness.ts';

/** The budget for the initial JavaScript, gzipped as served (issue 11). */
const INITIAL_JS_BUDGET_BYTES = 40_000;

const dist = fileURLToPath(new URL('../web/dist/', import.meta.url));

interface ManifestChunk {
  file: string;
  src?: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
}
type Manifest = Record<string, ManifestChunk>;

function readManifest(): Manifest {
  return JSON.parse(readFileSync(`${dist}.vite/manifest.json`, 'utf8')) as Manifest;
}

/** The files the page loads before it runs: the entry chunk and, transitively, its static imports. */
function initialFiles(manifest: Manifest): string[] {
  const entry = Object.entries(manifest).find(([, chunk]) => chunk.isEntry);
  if (!entry) throw new Error('the manifest has no entry');
  const seen = new Set<string>();
  const visit = (key: string): void => {
    if (seen.has(key)) return;
    seen.add(key);
    for (const imported of manifest[key]?.imports ?? []) visit(imported);
  };
  visit(entry[0]);
  return [...seen].map((key) => manifest[key]?.file ?? key);
}

/** The chunks built from source files whose path contains `part`. */
function chunksOf(manifest: Manifest, part: string): string[] {
  return Object.values(manifest)
    .filter((chunk) => chunk.src?.includes(part))
    .map((chunk) => chunk.file);
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw GET (node:http decompresses nothing): the bytes that go over the wire. */
function get(url: string, headers: Record<string, string>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

interface LoadedFile {
  path: string;
  /** Requested by the HTML itself (a script or stylesheet tag), so needed before the app runs. */
  beforeRun: boolean;
  /** What went over the wire, headers included (Chromium's encodedDataLength). */
  bytes: number;
  encoding: string;
}

/**
 * Opens the start page in Chromium and lists every file it downloads until the network is idle,
 * as the browser saw it (DevTools protocol): what the HTML asked for (initiator `parser`) and
 * what the app fetched once it ran (initiator `script`: the warm-up's lazy chunks).
 */
async function loadFirstScreen(harness: Harness): Promise<LoadedFile[]> {
  const context = await harness.browser.newContext();
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    const files = new Map<string, LoadedFile>();
    cdp.on('Network.requestWillBeSent', (event) => {
      const path = new URL(event.request.url).pathname;
      files.set(event.requestId, {
        path,
        beforeRun: event.initiator.type === 'parser',
        bytes: 0,
        encoding: '',
      });
    });
    cdp.on('Network.responseReceived', (event) => {
      const file = files.get(event.requestId);
      const header = Object.entries(event.response.headers).find(([name]) =>
        /^content-encoding$/i.test(name),
      );
      if (file) file.encoding = String(header?.[1] ?? 'identity');
    });
    cdp.on('Network.loadingFinished', (event) => {
      const file = files.get(event.requestId);
      if (file) file.bytes = event.encodedDataLength;
    });
    await page.goto(`${harness.url}/`);
    await page.getByTestId('start-button').waitFor();
    await page.waitForLoadState('networkidle');
    return [...files.values()].filter((file) => file.path.startsWith('/assets/'));
  } finally {
    await context.close();
  }
}

const kb = (bytes: number): string => `${(bytes / 1000).toFixed(1)} KB`;

describe('page weight', () => {
  const harness = useHarness();

  it(`downloads at most ${kb(INITIAL_JS_BUDGET_BYTES)} of JavaScript (gzip, as served) before the first screen`, async () => {
    const loaded = await loadFirstScreen(harness());
    const initial = loaded.filter((file) => file.beforeRun && file.path.endsWith('.js'));
    // The browser's view and the build's agree: the entry and its static imports, nothing else.
    expect(initial.map((file) => file.path.slice(1)).sort()).toEqual(
      initialFiles(readManifest())
        .filter((file) => file.endsWith('.js'))
        .sort(),
    );
    let raw = 0;
    let gzip = 0;
    for (const file of initial) {
      raw += readFileSync(`${dist}${file.path.slice(1)}`).length;
      const served = await get(`${harness().url}${file.path}`, { 'accept-encoding': 'gzip' });
      expect(served.status).toBe(200);
      expect(served.headers['content-encoding']).toBe('gzip');
      gzip += served.body.length;
    }
    // Chromium asks for brotli, and gets it.
    for (const file of loaded) expect(file.encoding, file.path).toBe('br');
    const sum = (files: LoadedFile[]): number => files.reduce((total, file) => total + file.bytes, 0);
    const warmed = loaded.filter((file) => !file.beforeRun && file.path.endsWith('.js'));
    console.log(
      `initial JavaScript: ${kb(gzip)} gzip (budget ${kb(INITIAL_JS_BUDGET_BYTES)}), ` +
        `${kb(sum(initial))} as Chromium got it (brotli, with headers), ${kb(raw)} raw, ` +
        `in ${initial.length} file(s); then warmed up after first paint: ${kb(sum(warmed))} in ${warmed.length} file(s); ` +
        `everything: ${kb(sum(loaded))}`,
    );
    expect(gzip).toBeLessThanOrEqual(INITIAL_JS_BUDGET_BYTES);
  });

  it('serves the built page and its assets precompressed, with Vary, and caches only hashed assets for long', async () => {
    const page = await get(`${harness().url}/`, { 'accept-encoding': 'gzip, deflate, br' });
    expect(page.status).toBe(200);
    expect(page.headers['content-encoding']).toBe('br');
    expect(page.headers['vary']).toMatch(/accept-encoding/i);
    expect(page.headers['cache-control']).toBe('no-cache');
    const html = readFileSync(`${dist}index.html`);
    expect(page.body).toEqual(brotliCompressSync(html, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
    for (const file of initialFiles(readManifest())) {
      const asset = await get(`${harness().url}/${file}`, { 'accept-encoding': 'gzip, deflate, br' });
      expect(asset.headers['content-encoding']).toBe('br');
      expect(asset.headers['vary']).toMatch(/accept-encoding/i);
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    }
  });

  it('does not serve the build manifest', async () => {
    const response = await get(`${harness().url}/.vite/manifest.json`, { 'accept-encoding': 'br' });
    expect(response.status).toBe(404);
  });

  it('keeps crypto-js, the des code and the conversation code out of the first download', () => {
    const manifest = readManifest();
    const initial = new Set(initialFiles(manifest));
    for (const part of ['des-suite', 'des-channel', 'modern-channel', 'conversation-parts', 'ChatView']) {
      const chunks = chunksOf(manifest, part);
      expect(chunks.length, part).toBeGreaterThan(0);
      for (const chunk of chunks) expect(initial.has(chunk), chunk).toBe(false);
    }
    for (const file of initial) {
      const text = readFileSync(`${dist}${file}`, 'utf8');
      expect(text).not.toContain('TripleDES');
    }
  });

  it('a modern conversation never downloads the des code; a des one does', async () => {
    const manifest = readManifest();
    const desChunks = [...chunksOf(manifest, 'des-suite'), ...chunksOf(manifest, 'des-channel')];
    const requested = async (suite: 'modern' | 'des'): Promise<string[]> => {
      const { page } = await openPage(harness());
      const urls: string[] = [];
      page.on('request', (req) => urls.push(new URL(req.url()).pathname));
      await startConversation(page, suite);
      await page.context().close();
      return urls;
    };
    const modern = await requested('modern');
    for (const chunk of desChunks) expect(modern).not.toContain(`/${chunk}`);
    const des = await requested('des');
    for (const chunk of desChunks) expect(des).toContain(`/${chunk}`);
  });
});
