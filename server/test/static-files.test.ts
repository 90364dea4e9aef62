/**
 * The app's files over HTTP: the precompressed copy the browser accepts, with the headers a
 * cache needs (Content-Encoding, Vary), a year of caching for hashed assets and revalidation
 * for index.html. Raw requests (node:http), so that nothing decompresses behind the test's back.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { IMMUTABLE, REVALIDATE } from '../src/static-files.ts';
import { useServers } from './support/servers.ts';

const serve = useServers();

const INDEX =
  '<!doctype html><title>Duet</title><script type="module" src="/assets/app-Ab12Cd34.js"></script>';
const APP = `export const greeting = ${JSON.stringify('hello '.repeat(500))};\n`;
const CHUNK = 'export const x = 1;\n'; // small: the build left it uncompressed

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'duet-static-'));
  mkdirSync(join(dir, 'assets'));
  const files: Record<string, string> = { 'index.html': INDEX, 'assets/app-Ab12Cd34.js': APP };
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, `${name}.br`), brotliCompressSync(text));
    writeFileSync(join(dir, `${name}.gz`), gzipSync(text));
  }
  writeFileSync(join(dir, 'assets/chunk-Ef56Gh78.js'), CHUNK);
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (response) => {
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

describe('static files', () => {
  it('sends the brotli copy to a browser that accepts br, with Content-Encoding, Vary and the type', async () => {
    const server = await serve({ staticDir: dir });
    const response = await get(`${server.url}/assets/app-Ab12Cd34.js`, {
      'accept-encoding': 'gzip, deflate, br',
    });
    expect(response.status).toBe(200);
    expect(response.headers['content-encoding']).toBe('br');
    expect(response.headers['vary']).toMatch(/accept-encoding/i);
    expect(response.headers['content-type']).toMatch(/^text\/javascript; charset=utf-8$/i);
    expect(Number(response.headers['content-length'])).toBe(response.body.length);
    expect(response.body.length).toBeLessThan(APP.length / 10);
    expect(brotliDecompressSync(response.body).toString()).toBe(APP);
  });

  it('sends the gzip copy when br is not accepted', async () => {
    const server = await serve({ staticDir: dir });
    const response = await get(`${server.url}/assets/app-Ab12Cd34.js`, { 'accept-encoding': 'gzip' });
    expect(response.headers['content-encoding']).toBe('gzip');
    expect(response.headers['vary']).toMatch(/accept-encoding/i);
    expect(gunzipSync(response.body).toString()).toBe(APP);
  });

  it('sends the file itself when no encoding is accepted, still with Vary', async () => {
    const server = await serve({ staticDir: dir });
    const cases: Record<string, string>[] = [
      {},
      { 'accept-encoding': 'identity' },
      { 'accept-encoding': 'br;q=0, gzip;q=0' },
    ];
    for (const headers of cases) {
      const response = await get(`${server.url}/assets/app-Ab12Cd34.js`, headers);
      expect(response.headers['content-encoding']).toBeUndefined();
      expect(response.headers['vary']).toMatch(/accept-encoding/i);
      expect(response.body.toString()).toBe(APP);
    }
  });

  it('sends a file the build did not compress as it is', async () => {
    const server = await serve({ staticDir: dir });
    const response = await get(`${server.url}/assets/chunk-Ef56Gh78.js`, { 'accept-encoding': 'br, gzip' });
    expect(response.status).toBe(200);
    expect(response.headers['content-encoding']).toBeUndefined();
    expect(response.body.toString()).toBe(CHUNK);
  });

  it('lets browsers keep hashed assets for a year, in every encoding', async () => {
    const server = await serve({ staticDir: dir });
    for (const encoding of ['br', 'gzip', 'identity']) {
      const response = await get(`${server.url}/assets/app-Ab12Cd34.js`, { 'accept-encoding': encoding });
      expect(response.headers['cache-control']).toBe(IMMUTABLE);
    }
    const plain = await get(`${server.url}/assets/chunk-Ef56Gh78.js`);
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('has index.html revalidated on every load, at / and by name, compressed too', async () => {
    const server = await serve({ staticDir: dir });
    for (const path of ['/', '/index.html']) {
      const response = await get(`${server.url}${path}`, { 'accept-encoding': 'br' });
      expect(response.status).toBe(200);
      expect(response.headers['cache-control']).toBe(REVALIDATE);
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.headers['content-encoding']).toBe('br');
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(brotliDecompressSync(response.body).toString()).toBe(INDEX);
    }
  });

  it('answers a revalidation of index.html that changed nothing with 304', async () => {
    const server = await serve({ staticDir: dir });
    const first = await get(`${server.url}/`, { 'accept-encoding': 'gzip' });
    const etag = String(first.headers['etag']);
    const again = await get(`${server.url}/`, { 'accept-encoding': 'gzip', 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('gives each encoding its own ETag, so that a cache never swaps one for another', async () => {
    const server = await serve({ staticDir: dir });
    const tags = await Promise.all(
      ['br', 'gzip', 'identity'].map(
        async (encoding) =>
          (await get(`${server.url}/assets/app-Ab12Cd34.js`, { 'accept-encoding': encoding })).headers[
            'etag'
          ],
      ),
    );
    expect(new Set(tags).size).toBe(3);
  });

  it('answers HEAD with the headers of the compressed copy and no body', async () => {
    const server = await serve({ staticDir: dir });
    const response = await get(`${server.url}/assets/app-Ab12Cd34.js`, { 'accept-encoding': 'br' }, 'HEAD');
    expect(response.status).toBe(200);
    expect(response.headers['content-encoding']).toBe('br');
    expect(response.body.length).toBe(0);
  });

  it('answers a missing asset with 404, never cached for a year', async () => {
    const server = await serve({ staticDir: dir });
    const response = await get(`${server.url}/assets/gone-Zz99.js`, { 'accept-encoding': 'br' });
    expect(response.status).toBe(404);
    expect(response.headers['cache-control'] ?? '').not.toMatch(/immutable|max-age=[1-9]/);
    expect(response.headers['content-encoding']).toBeUndefined();
  });

  it('never serves a compressed copy by its own name as if it were the page', async () => {
    const server = await serve({ staticDir: dir });
    const response = await get(`${server.url}/index.html.br`);
    // Served as what it is (a brotli file), never with a text/html type a browser would render.
    expect(response.headers['content-type'] ?? '').not.toMatch(/text\/html/);
  });
});
