import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.ts';
import { fanOut, type RelayObserver } from '../src/observer.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { pair, TestClient } from './client.ts';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A pino destination that keeps every line, to read the logs back. */
function captureLogs(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

describe('metrics', () => {
  it('GET /metrics counts connections, rooms, frames and bytes relayed, and errors by code', async () => {
    const server = await startServer({ port: 0, host: '127.0.0.1', staticDir: '/nonexistent' });
    servers.push(server);
    const [a, b] = await pair(server.url, 'metrics-room');
    a.sendBinary(randomBytes(100));
    await b.binary();
    a.sendText('not json');
    expect(await a.errorCode()).toBe('bad-json');

    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(/^duet_connections 2$/m);
    expect(text).toMatch(/^duet_rooms 1$/m);
    expect(text).toMatch(/^duet_frames_relayed_total 1$/m);
    expect(text).toMatch(/^duet_bytes_relayed_total 100$/m);
    expect(text).toMatch(/^duet_errors_total\{code="bad-json"\} 1$/m);
    expect(text).toMatch(/^duet_seat_events_total\{event="joined"\} 2$/m);
    expect(text).not.toContain('metrics-room');
    // Totals, not what came since the last scrape.
    b.sendBinary(randomBytes(20));
    await a.binary();
    const again = await (await fetch(`${server.url}/metrics`)).text();
    expect(again).toMatch(/^duet_frames_relayed_total 2$/m);
    expect(again).toMatch(/^duet_bytes_relayed_total 120$/m);
    a.close();
    b.close();
  });
});

describe('logs', () => {
  it('never contain payloads, room codes, tokens or passphrase-like input, even at trace level', async () => {
    const { lines, stream } = captureLogs();
    const server = await startServer({
      port: 0,
      host: '127.0.0.1',
      staticDir: '/nonexistent',
      logger: createLogger('trace', stream),
    });
    servers.push(server);
    const room = 'secret-room-code';
    const a = await TestClient.connect(server.url);
    const joined = await a.join(room);
    const token = joined.type === 'joined' ? joined.token : 'missing';
    const b = await TestClient.connect(server.url);
    await b.join(room);
    await a.control();
    const payload = Buffer.from('attack at dawn, passphrase hunter2');
    a.sendBinary(payload);
    await b.binary();
    a.sendText('{"type":"join","room":"hunter2 is my passphrase","suite":"x"}');
    await a.errorCode();
    a.close();
    await b.control(); // partner-left
    b.close();
    await server.close();

    expect(lines.length).toBeGreaterThan(0);
    const all = lines.join('\n');
    for (const secret of [room, token, 'attack at dawn', 'hunter2', payload.toString('hex')]) {
      expect(all, `logs leak ${secret}`).not.toContain(secret);
    }
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('warn at start when MAX_FRAME_BYTES is too small for a file chunk, and only then', async () => {
    for (const maxFrameBytes of [32 * 1024, 65536]) {
      const { lines, stream } = captureLogs();
      const server = await startServer({
        port: 0,
        host: '127.0.0.1',
        staticDir: '/nonexistent',
        maxFrameBytes,
        logger: createLogger('info', stream),
      });
      servers.push(server);
      const warnings = lines
        .map((line) => JSON.parse(line) as { event?: string })
        .filter((l) => l.event === 'small-frames');
      expect(warnings).toHaveLength(maxFrameBytes < 61515 ? 1 : 0);
    }
  });
});

describe('fanOut', () => {
  it('tells every observer each thing, in the order they were given', () => {
    const heard: string[] = [];
    const recorder = (name: string): RelayObserver => ({
      relayed: (bytes) => heard.push(`${name} relayed ${bytes}`),
      error: (code) => heard.push(`${name} error ${code}`),
      refused: (status) => heard.push(`${name} refused ${status}`),
      seat: (event) => heard.push(`${name} seat ${event}`),
      handshake: (granted) => heard.push(`${name} handshake ${granted}`),
      internalError: (error) => heard.push(`${name} internal ${error}`),
      throttled: () => heard.push(`${name} throttled`),
      dropped: (code) => heard.push(`${name} dropped ${code}`),
    });
    const both = fanOut(recorder('a'), recorder('b'));
    both.relayed(3);
    both.error('rate-limited');
    both.refused(429);
    both.seat('held');
    both.handshake(false);
    both.internalError('TypeError');
    both.throttled();
    both.dropped(1013);
    expect(heard).toEqual(
      [
        'relayed 3',
        'error rate-limited',
        'refused 429',
        'seat held',
        'handshake false',
        'internal TypeError',
        'throttled',
        'dropped 1013',
      ].flatMap((event) => [`a ${event}`, `b ${event}`]),
    );
  });
});
