import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type RunningServer, type StartOptions } from '../src/server.ts';
import { pair, TestClient } from './client.ts';

const servers: RunningServer[] = [];
async function serve(options: StartOptions = {}): Promise<RunningServer> {
  const server = await startServer({ port: 0, host: '127.0.0.1', staticDir: '/nonexistent', ...options });
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** Resolves with the HTTP status of a refused upgrade, or 101 when the upgrade went through. */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { headers });
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    socket.once('error', () => undefined);
  });
}

describe('relay limits', () => {
  it('a flood gets rate-limited and its excess frames are dropped, while the partner gets only the allowed ones', async () => {
    const server = await serve({ messageBurst: 5, messagesPerSecond: 1 });
    const [a, b] = await pair(server.url, 'flood-room');
    // pair() used 1 token of a's bucket (join); 4 remain for binary frames.
    for (let i = 0; i < 20; i++) a.sendBinary(Buffer.from([i]));
    expect(await a.errorCode()).toBe('rate-limited');
    const received: number[] = [];
    for (let i = 0; i < 4; i++) received.push((await b.binary())[0]!);
    expect(received).toEqual([0, 1, 2, 3]);
    a.close();
    b.close();
  });

  it('handshake attempts per room run out: rate-limited with retryAfterMs, also after leaving and rejoining', async () => {
    let clock = 1_000_000;
    const server = await serve({ handshakeBurst: 2, handshakeRefillMs: 60_000, now: () => clock });
    let [a, b] = await pair(server.url, 'budget-room');
    for (const attempt of [1, 2]) {
      a.sendJson({ type: 'handshake' });
      expect(await a.control()).toMatchObject({ type: 'handshake', attempt });
      await b.control();
    }
    a.sendJson({ type: 'handshake' });
    expect(await a.control()).toEqual({
      type: 'error',
      code: 'rate-limited',
      message: expect.any(String),
      retryAfterMs: 60_000,
    });
    // Leaving and coming back does not refill the room's budget.
    a.close();
    b.close();
    await Promise.all([a.closed, b.closed]);
    [a, b] = await pair(server.url, 'budget-room');
    a.sendJson({ type: 'handshake' });
    expect(await a.errorCode()).toBe('rate-limited');
    // Time refills it.
    clock += 60_000;
    a.sendJson({ type: 'handshake' });
    expect(await a.control()).toMatchObject({ type: 'handshake', attempt: 3 });
    a.close();
    b.close();
  });

  it('refuses a cross-site Origin with 403 and accepts the page’s own origin and non-browser clients', async () => {
    const server = await serve();
    const host = new URL(server.url).host;
    expect(await upgradeStatus(server.url, { Origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(server.url, { Origin: `http://${host}` })).toBe(101);
    expect(await upgradeStatus(server.url, {})).toBe(101);
  });

  it('an explicit ALLOWED_ORIGINS list replaces the same-origin rule', async () => {
    const server = await serve({ allowedOrigins: ['https://duet.example'] });
    const host = new URL(server.url).host;
    expect(await upgradeStatus(server.url, { Origin: 'https://duet.example' })).toBe(101);
    expect(await upgradeStatus(server.url, { Origin: `http://${host}` })).toBe(403);
  });

  it('refuses upgrades on other paths with 404', async () => {
    const server = await serve();
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/elsewhere`);
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.once('error', () => undefined);
    });
    expect(status).toBe(404);
  });

  it('refuses connections past maxConnections with 503', async () => {
    const server = await serve({ maxConnections: 2 });
    const a = await TestClient.connect(server.url);
    const b = await TestClient.connect(server.url);
    expect(await upgradeStatus(server.url, {})).toBe(503);
    a.close();
    b.close();
  });

  it('refuses new rooms past maxRooms with server-busy', async () => {
    const server = await serve({ maxRooms: 1 });
    const a = await TestClient.connect(server.url);
    await a.join('only-room');
    const b = await TestClient.connect(server.url);
    b.sendJson({ type: 'join', room: 'second-room', suite: 'modern' });
    expect(await b.errorCode()).toBe('server-busy');
    expect((await b.join('only-room')).type).toBe('joined');
    a.close();
    b.close();
  });

  it('drops a partner that stops reading (1013) instead of buffering without bound', async () => {
    const server = await serve({
      maxBufferedBytes: 256 * 1024,
      messageBurst: 10_000,
      messagesPerSecond: 10_000,
    });
    const [a, b] = await pair(server.url, 'slow-room');
    b.socket.pause(); // b stops reading from its TCP socket
    const frame = randomBytes(60 * 1024);
    // 12 MB: more than the relay's 256 KiB cap plus what loopback TCP buffers can hold.
    for (let i = 0; i < 200; i++) {
      await new Promise<void>((resolve) => a.socket.send(frame, { binary: true }, () => resolve()));
    }
    b.socket.resume();
    expect((await b.closed).code).toBe(1013);
    a.close();
  });

  it('closes every connection with 1001 on shutdown', async () => {
    const server = await startServer({ port: 0, host: '127.0.0.1', staticDir: '/nonexistent' });
    const a = await TestClient.connect(server.url);
    await server.close();
    expect((await a.closed).code).toBe(1001);
  });
});

describe('http', () => {
  it('GET /healthz answers 200 while the relay runs', async () => {
    const server = await serve();
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('serves the app with a strict CSP and no-referrer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'duet-static-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Duet</title>');
    const server = await serve({ staticDir: dir });
    const response = await fetch(`${server.url}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<title>Duet</title>');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('x-powered-by')).toBeNull();
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
  });
});
