import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { startServer } from '../src/server.ts';
import { pair, TestClient, upgradeStatus } from './client.ts';
import { useServers } from './support/servers.ts';

const serve = useServers();

/** The value of one unlabelled metric (or the sum over its labels) from GET /metrics. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

describe('relay limits', () => {
  it('a flood gets rate-limited (once) and its excess frames are dropped; the partner gets only the allowed ones', async () => {
    const clock = 1_000_000; // frozen: no token comes back during the test
    const server = await serve({ messageBurst: 5, messagesPerSecond: 1, now: () => clock });
    const [a, b] = await pair(server.url, 'flood-room');
    // pair() used 1 token of a's bucket (join); 4 remain for binary frames.
    for (let i = 0; i < 20; i++) a.sendBinary(Buffer.from([i]));
    expect(await a.control()).toEqual({
      type: 'error',
      code: 'rate-limited',
      message: expect.any(String),
      retryAfterMs: 1000,
    });
    await a.ackedAtLeast(20); // every frame was read, and the relay said rate-limited only once
    const received: number[] = [];
    for (let i = 0; i < 4; i++) received.push((await b.binary())[0]!);
    expect(received).toEqual([0, 1, 2, 3]);
    // Control frames count too, and the flood is not answered frame for frame.
    a.sendJson({ type: 'handshake' });
    b.sendJson({ type: 'leave' }); // b still has tokens: its frames go through
    expect(await a.control()).toEqual({ type: 'partner-left' });
    a.close();
    b.close();
  });

  it('a connection over its byte rate is paused, not dropped, while other rooms carry on; every frame arrives once the rate allows', async () => {
    let clock = 1_000_000; // frozen until the test moves it: the debt is not repaid meanwhile
    const server = await serve({ byteBurst: 64 * 1024, bytesPerSecond: 1024 * 1024, now: () => clock });
    const [a, b] = await pair(server.url, 'bulk-room');
    const [c, d] = await pair(server.url, 'chat-room');
    const frame = (i: number) => Buffer.alloc(32 * 1024, i);
    for (let i = 0; i < 16; i++) a.sendBinary(frame(i)); // 512 KiB against a 64 KiB burst
    await vi.waitFor(async () => expect(await metric(server.url, 'duet_throttled_total')).toBeGreaterThan(0));
    // Another room's chat goes through while the bulk sender is held back.
    c.sendBinary(Buffer.from('hi'));
    expect((await d.binary()).toString()).toBe('hi');
    const received = [(await b.binary())[0]!, (await b.binary())[0]!]; // the burst's worth, at once
    // Time passes (the relay's clock, 50 ms a tick): the rest is read as the rate allows, in
    // order, none refused.
    const ticking = setInterval(() => (clock += 50), 5);
    try {
      while (received.length < 16) received.push((await b.binary())[0]!);
    } finally {
      clearInterval(ticking);
    }
    expect(received).toEqual([...Array(16).keys()]);
    await a.ackedAtLeast(16);
    expect(await metric(server.url, 'duet_errors_total')).toBe(0);
    for (const client of [a, b, c, d]) client.close();
  });

  it('a grant with the seat comes out of the room budget, and with none left there is none', async () => {
    const server = await serve({ handshakeBurst: 1, handshakeRefillMs: 60_000 });
    const seat = async () => {
      const a = await TestClient.connect(server.url);
      const b = await TestClient.connect(server.url);
      a.sendJson({ type: 'join', room: 'seat-budget', suite: 'modern', grantOnSeat: true });
      await a.control(); // joined
      b.sendJson({ type: 'join', room: 'seat-budget', suite: 'modern', grantOnSeat: true });
      await b.control(); // joined
      await a.control(); // partner-joined
      return [a, b] as const;
    };
    let [a, b] = await seat();
    expect(await a.control()).toMatchObject({ type: 'handshake', attempt: 1 });
    expect(await b.control()).toMatchObject({ type: 'handshake', attempt: 1 });
    b.close();
    await b.closed;
    expect(await a.control()).toEqual({ type: 'partner-left' });
    a.close();
    await a.closed;
    await vi.waitFor(() => expect(server.stats().rooms).toBe(0));
    // Seated again: the budget is spent, so no grant; the initiator asking is told how long.
    [a, b] = await seat();
    a.sendJson({ type: 'handshake' });
    expect(await a.control()).toMatchObject({
      type: 'error',
      code: 'rate-limited',
      retryAfterMs: expect.any(Number),
    });
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
      expect(await b.control()).toMatchObject({ type: 'handshake', attempt });
    }
    a.sendJson({ type: 'handshake' });
    expect(await a.control()).toEqual({
      type: 'error',
      code: 'rate-limited',
      message: expect.any(String),
      retryAfterMs: 60_000,
    });
    // The partner asking instead does not help.
    b.sendJson({ type: 'handshake' });
    expect(await b.errorCode()).toBe('rate-limited');
    // Leaving and coming back (the room even empties) does not refill the room's budget.
    a.close();
    b.close();
    await Promise.all([a.closed, b.closed]);
    await vi.waitFor(() => expect(server.stats().rooms).toBe(0));
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
    expect(await upgradeStatus(server.url, {}, '/elsewhere')).toBe(404);
    expect(await upgradeStatus(server.url, {}, '/ws/')).toBe(404);
  });

  it('refuses connections past maxConnections with 503', async () => {
    const server = await serve({ maxConnections: 2 });
    const a = await TestClient.connect(server.url);
    const b = await TestClient.connect(server.url);
    expect(await upgradeStatus(server.url)).toBe(503);
    a.close();
    b.close();
  });

  it('refuses connections past maxConnectionsPerIp with 429, and counts them down as they close', async () => {
    const server = await serve({ maxConnectionsPerIp: 2 });
    const a = await TestClient.connect(server.url);
    const b = await TestClient.connect(server.url);
    expect(await upgradeStatus(server.url)).toBe(429);
    a.close();
    await vi.waitFor(async () => expect(await upgradeStatus(server.url)).toBe(101));
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

  it('drops a partner that stops reading (1013, seat held) instead of buffering without bound', async () => {
    const server = await serve({
      maxBufferedBytes: 256 * 1024,
      messageBurst: 10_000,
      messagesPerSecond: 10_000,
    });
    const [a, b] = await pair(server.url, 'slow-room');
    b.socket.pause(); // b stops reading from its TCP socket
    const frame = randomBytes(60 * 1024);
    // Up to 12 MB: more than the relay's 256 KiB cap plus what loopback TCP buffers can hold.
    // Sending stops at the relay's first partner-away.
    let away = false;
    void a.control().then((message) => (away = message.type === 'partner-away'));
    for (let i = 0; i < 200 && !away; i++) {
      await new Promise<void>((resolve) => a.socket.send(frame, { binary: true }, () => resolve()));
    }
    await vi.waitFor(() => expect(away).toBe(true));
    b.socket.resume();
    expect((await b.closed).code).toBe(1013);
    a.close();
  });

  it('closes every connection with 1001 on shutdown, and close() resolves once they are closed', async () => {
    const server = await startServer({ port: 0, host: '127.0.0.1', staticDir: '/nonexistent' });
    const [a, b] = await pair(server.url, 'shutdown-room');
    const closedA = a.closed;
    await server.close();
    expect((await closedA).code).toBe(1001);
    expect((await b.closed).code).toBe(1001);
    await server.close(); // idempotent
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
    const csp = (response.headers.get('content-security-policy') ?? '').split(';').map((d) => d.trim());
    expect(csp.sort()).toEqual(
      [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].sort(),
    );
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-powered-by')).toBeNull();
  });

  it('GET /config gives the app its ICE servers (none by default) and the frame limit, never cached', async () => {
    const plain = await serve();
    const response = await fetch(`${plain.url}/config`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ iceServers: [], maxFrameBytes: 65536 });

    const iceServers = [
      { urls: 'stun:stun.example.org:3478' },
      { urls: ['turn:turn.example.org?transport=udp'], username: 'duet', credential: 's3cret' },
    ];
    const configured = await serve({ iceServers, maxFrameBytes: 32768 });
    expect(await (await fetch(`${configured.url}/config`)).json()).toEqual({
      iceServers,
      maxFrameBytes: 32768,
    });
  });

  it('answers unknown paths, and a plain GET of /ws, with 404', async () => {
    const server = await serve();
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/ws`)).status).toBe(404);
  });
});
