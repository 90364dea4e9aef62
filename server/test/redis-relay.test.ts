/**
 * Scale-out (docs/scale-out.md): several relay nodes sharing rooms through a real redis-server
 * on a free loopback port. Without /usr/bin/redis-server these tests fail, on purpose.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '@duet/core/protocol/control';
import { Redis } from 'ioredis';
import { REAP } from '../src/redis/scripts.ts';
import { startServer, type RunningServer, type StartOptions } from '../src/server.ts';
import { TestClient } from './client.ts';
import { startRedis, type TestRedis } from './support/redis-server.ts';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

const servers: RunningServer[] = [];
const clients: TestClient[] = [];
async function node(options: StartOptions = {}): Promise<RunningServer> {
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    staticDir: '/nonexistent',
    logLevel: 'warn',
    redisUrl: redis.url,
    ...options,
  });
  servers.push(server);
  return server;
}
async function connect(server: { url: string }): Promise<TestClient> {
  const client = await TestClient.connect(server.url);
  clients.push(client);
  return client;
}
afterEach(async () => {
  for (const client of clients.splice(0)) client.cut();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await redis.flush(); // held seats of the cut clients would count against MAX_ROOMS
});

async function joined(client: TestClient, room: string) {
  const message = await client.join(room);
  if (message.type !== 'joined') throw new Error(`expected joined, got ${JSON.stringify(message)}`);
  return message;
}

async function resume(client: TestClient, room: string, token: string): Promise<ServerMessage> {
  client.sendJson({ type: 'resume', room, token });
  return client.control();
}

/** Binary frames both ways, checked byte for byte. */
async function chat(a: TestClient, b: TestClient): Promise<void> {
  const there = Buffer.from('00ff10a5c3deadbeef', 'hex');
  const back = Buffer.from('7f80000102', 'hex');
  a.sendBinary(there);
  expect((await b.binary()).equals(there)).toBe(true);
  b.sendBinary(back);
  expect((await a.binary()).equals(back)).toBe(true);
}

describe('scale-out on Redis', () => {
  it('two people on two nodes are seated together and chat both ways, byte for byte', async () => {
    const [one, two] = [await node({ nodeId: 'one' }), await node({ nodeId: 'two' })];
    const a = await connect(one);
    const b = await connect(two);
    expect(await a.join('two-nodes')).toMatchObject({ type: 'joined', role: 'initiator', partner: false });
    expect(await b.join('two-nodes')).toMatchObject({ type: 'joined', role: 'responder', partner: true });
    expect(await a.control()).toEqual({ type: 'partner-joined' });
    await chat(a, b);
  });

  it('a third joiner on either node gets room-full; the other suite gets suite-mismatch', async () => {
    const [one, two] = [await node(), await node()];
    await joined(await connect(one), 'full-room');
    await joined(await connect(two), 'full-room');
    for (const server of [one, two]) {
      const c = await connect(server);
      c.sendJson({ type: 'join', room: 'full-room', suite: 'modern' });
      expect(await c.errorCode()).toBe('room-full');
    }
    const seated = await connect(one);
    await joined(seated, 'des-room');
    const d = await connect(two);
    d.sendJson({ type: 'join', room: 'des-room', suite: 'des' });
    expect(await d.errorCode()).toBe('suite-mismatch');
    // Told across nodes, so that it does not wait for ever.
    expect(await seated.control()).toEqual({ type: 'partner-refused', code: 'suite-mismatch', suite: 'des' });
  });

  it('pages of two versions on two nodes: both get suite-mismatch; a room from before versions is version 1', async () => {
    const [one, two] = [await node(), await node()];
    const a = await connect(one);
    a.sendJson({ type: 'join', room: 'version-room', suite: 'modern', version: 2 });
    expect((await a.control()).type).toBe('joined');
    const b = await connect(two);
    b.sendJson({ type: 'join', room: 'version-room', suite: 'modern' });
    expect(await b.errorCode()).toBe('suite-mismatch');
    expect(await a.errorCode()).toBe('suite-mismatch');
    // A room whose hash has no version field, as a node from before versions made it.
    await joined(await connect(one), 'old-room');
    const admin = new Redis(redis.url);
    await admin.hdel('duet:room:old-room', 'version');
    await admin.quit();
    const c = await connect(two);
    c.sendJson({ type: 'join', room: 'old-room', suite: 'modern', version: 1 });
    expect(await c.control()).toMatchObject({ type: 'joined', partner: true });
  });

  it('ten clients racing for one room across two nodes: exactly two are seated, one per role', async () => {
    const [one, two] = [await node(), await node()];
    const racers = await Promise.all(Array.from({ length: 10 }, (_, i) => connect(i % 2 ? one : two)));
    for (const racer of racers) racer.sendJson({ type: 'join', room: 'race-room', suite: 'modern' });
    const answers = await Promise.all(racers.map((racer) => racer.control()));
    const seated = answers.filter((answer) => answer.type === 'joined');
    expect(seated.map((answer) => answer.type === 'joined' && answer.role).sort()).toEqual([
      'initiator',
      'responder',
    ]);
    expect(answers.filter((answer) => answer.type === 'error' && answer.code === 'room-full')).toHaveLength(
      8,
    );
  });

  it('the handshake budget is shared: attempts taken on either node come from one bucket', async () => {
    const options = { handshakeBurst: 3, handshakeRefillMs: 3_600_000 };
    const [one, two] = [await node(options), await node(options)];
    const a = await connect(one);
    const b = await connect(two);
    await joined(a, 'budget-room');
    await joined(b, 'budget-room');
    await a.control(); // partner-joined
    for (const [asker, other, attempt] of [
      [a, b, 1],
      [b, a, 2],
      [a, b, 3],
    ] as const) {
      asker.sendJson({ type: 'handshake' });
      expect(await asker.control()).toMatchObject({ type: 'handshake', attempt });
      expect(await other.control()).toMatchObject({ type: 'handshake', attempt });
    }
    b.sendJson({ type: 'handshake' });
    expect(await b.control()).toMatchObject({ type: 'error', code: 'rate-limited' });
  });

  it('a cut connection resumes on the other node: partner-away, then partner-back, and the chat goes on', async () => {
    const [one, two] = [await node(), await node()];
    const a = await connect(one);
    const b = await connect(two);
    const { token } = await joined(a, 'moving-room');
    await joined(b, 'moving-room');
    await a.control(); // partner-joined
    a.cut();
    expect(await b.control()).toEqual({ type: 'partner-away' });
    const a2 = await connect(two);
    expect(await resume(a2, 'moving-room', token)).toMatchObject({
      type: 'resumed',
      role: 'initiator',
      partner: true,
      partnerAway: false,
    });
    expect(await b.control()).toEqual({ type: 'partner-back' });
    await chat(a2, b);
  });

  it('resume while the old connection looks alive, from another node, closes the old one with 1000', async () => {
    const [one, two] = [await node(), await node()];
    const a = await connect(one);
    const b = await connect(two);
    const { token } = await joined(a, 'takeover-room');
    await joined(b, 'takeover-room');
    await a.control(); // partner-joined
    const a2 = await connect(two);
    expect(await resume(a2, 'takeover-room', token)).toMatchObject({ type: 'resumed' });
    expect((await a.closed).code).toBe(1000);
    expect(await b.control()).toEqual({ type: 'partner-back' });
    await chat(a2, b);
  });

  it('a held seat whose partner left meanwhile cannot be resumed on another node; the newcomer gets partner-left', async () => {
    const [one, two] = [await node(), await node()];
    const a = await connect(one);
    const b = await connect(two);
    await joined(a, 'changed-room');
    const { token } = await joined(b, 'changed-room');
    await a.control(); // partner-joined
    b.cut();
    expect(await a.control()).toEqual({ type: 'partner-away' });
    a.sendJson({ type: 'leave' });
    const c = await connect(two);
    expect(await c.join('changed-room')).toMatchObject({
      role: 'initiator',
      partner: true,
      partnerAway: true,
    });
    const b2 = await connect(one);
    expect(await resume(b2, 'changed-room', token)).toMatchObject({ type: 'error', code: 'resume-failed' });
    expect(await c.control()).toEqual({ type: 'partner-left' });
    expect(await b2.join('changed-room')).toMatchObject({ type: 'joined', role: 'responder', partner: true });
    expect(await c.control()).toEqual({ type: 'partner-joined' });
    await chat(c, b2);
  });

  it('a join repeated on the other node after a lost `joined` gets the same seat, not room-full', async () => {
    const [one, two] = [await node(), await node()];
    const mine = 'c3'.repeat(16);
    const b = await connect(two);
    await joined(b, 'again-room');
    const a = await connect(one);
    a.sendJson({ type: 'join', room: 'again-room', suite: 'modern', token: mine });
    expect(await a.control()).toMatchObject({ type: 'joined', role: 'responder', token: mine });
    expect(await b.control()).toEqual({ type: 'partner-joined' });
    a.cut();
    expect(await b.control()).toEqual({ type: 'partner-away' });
    const a2 = await connect(two);
    a2.sendJson({ type: 'join', room: 'again-room', suite: 'modern', token: mine });
    expect(await a2.control()).toMatchObject({ type: 'joined', role: 'responder', partner: true });
    expect(await b.control()).toEqual({ type: 'partner-joined' });
    await chat(a2, b);
  });

  it('a resume repeated on another node after a lost `resumed` matches the seat it already moved', async () => {
    const [one, two] = [await node(), await node()];
    const next = 'd4'.repeat(16);
    const a = await connect(one);
    const b = await connect(two);
    const { token } = await joined(a, 'repeat-room');
    await joined(b, 'repeat-room');
    await a.control(); // partner-joined
    a.cut();
    await b.control(); // partner-away
    const a2 = await connect(two);
    a2.sendJson({ type: 'resume', room: 'repeat-room', token, next });
    expect(await a2.control()).toMatchObject({ type: 'resumed', token: next });
    await b.control(); // partner-back
    a2.cut();
    await b.control(); // partner-away
    const a3 = await connect(one);
    a3.sendJson({ type: 'resume', room: 'repeat-room', token, next });
    expect(await a3.control()).toMatchObject({ type: 'resumed', role: 'initiator', token: next });
    expect(await b.control()).toEqual({ type: 'partner-back' });
    await chat(a3, b);
  });

  it('Redis never holds a seat token, only its hash', async () => {
    const one = await node();
    const a = await connect(one);
    const { token } = await joined(a, 'hashed-room');
    const client = new Redis(redis.url);
    try {
      const seats = Object.values(await client.hgetall('duet:room:hashed-room')).join(' ');
      expect(seats).toContain(createHash('sha256').update(Buffer.from(token, 'hex')).digest('hex'));
      expect(seats).not.toContain(token);
    } finally {
      client.disconnect();
    }
  });

  it('MAX_ROOMS counts the rooms of every node', async () => {
    const [one, two] = [await node({ maxRooms: 1 }), await node({ maxRooms: 1 })];
    await joined(await connect(one), 'only-room');
    const b = await connect(two);
    b.sendJson({ type: 'join', room: 'second-room', suite: 'modern' });
    expect(await b.errorCode()).toBe('server-busy');
    expect(await b.join('only-room')).toMatchObject({ type: 'joined', role: 'responder' });
  });

  it('a held seat is freed after seatGraceMs by the sweep; the partner on another node gets partner-left', async () => {
    const options = { seatGraceMs: 100, nodeTtlMs: 300 };
    const [one, two] = [await node(options), await node(options)];
    const a = await connect(one);
    const b = await connect(two);
    const { token } = await joined(a, 'expiring-room');
    await joined(b, 'expiring-room');
    await a.control(); // partner-joined
    a.cut();
    expect(await b.control()).toEqual({ type: 'partner-away' });
    expect(await b.control()).toEqual({ type: 'partner-left' });
    expect(await resume(await connect(one), 'expiring-room', token)).toMatchObject({ code: 'resume-failed' });
  });

  it('a crashed node (SIGKILL): its seats are held, the partner told, and A resumes through the other node', async () => {
    const one = await spawnNode();
    const two = await node({ nodeTtlMs: 300 });
    const a = await connect(one);
    const b = await connect(two);
    const { token } = await joined(a, 'crash-room');
    await joined(b, 'crash-room');
    await a.control(); // partner-joined
    await chat(a, b);

    one.kill();
    expect((await a.closed).code).toBe(1006);
    expect(await b.control()).toEqual({ type: 'partner-away' }); // once node two's sweep sees it gone
    const a2 = await connect(two);
    expect(await resume(a2, 'crash-room', token)).toMatchObject({
      type: 'resumed',
      role: 'initiator',
      partner: true,
    });
    expect(await b.control()).toEqual({ type: 'partner-back' });
    await chat(a2, b);
  });

  it('a node taken for crashed while alive closes its seated connections with 1012; they resume', async () => {
    const one = await node({ nodeId: 'slow', nodeTtlMs: 300 });
    const two = await node({ nodeTtlMs: 300 });
    const a = await connect(one);
    const b = await connect(two);
    const { token } = await joined(a, 'evicted-room');
    await joined(b, 'evicted-room');
    await a.control(); // partner-joined
    // As if "slow" had not renewed its key in time and another node's sweep reaped it.
    const admin = new Redis(redis.url);
    await admin.eval(`redis.call('DEL', 'duet:alive:slow')\n${REAP}`, 0, Date.now() + 60_000);
    admin.disconnect();
    expect((await a.closed).code).toBe(1012);
    const a2 = await connect(two);
    expect(await resume(a2, 'evicted-room', token)).toMatchObject({ type: 'resumed', role: 'initiator' });
    expect(await b.control()).toEqual({ type: 'partner-back' });
    await chat(a2, b);
  });

  it('a crashed node whose client never comes back: partner-away, then partner-left after seatGraceMs', async () => {
    const one = await spawnNode();
    const two = await node({ nodeTtlMs: 300, seatGraceMs: 200 });
    const a = await connect(one);
    const b = await connect(two);
    await joined(a, 'gone-room');
    await joined(b, 'gone-room');
    one.kill();
    expect(await b.control()).toEqual({ type: 'partner-away' });
    expect(await b.control()).toEqual({ type: 'partner-left' });
    const c = await connect(two);
    expect(await c.join('gone-room')).toMatchObject({ type: 'joined', role: 'initiator', partner: true });
  });
});

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** A relay node in its own process (support/relay-node.ts), so that it can really crash. */
async function spawnNode(): Promise<{ url: string; kill(): void }> {
  const script = fileURLToPath(new URL('./support/relay-node.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, PORT: '0', REDIS_URL: redis.url, NODE_TTL_MS: '300', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  if (!child.stdout) throw new Error('no stdout');
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const { url } = JSON.parse(line) as { url: string };
  return { url, kill: () => child.kill('SIGKILL') };
}
