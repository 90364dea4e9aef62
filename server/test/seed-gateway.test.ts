/**
 * The seed gateway: the original design's Python clients (alice.py, bob.py, run unchanged) in a
 * Duet `des` room over raw TCP, with each other and with Duet's own client; and the gateway's
 * limits, seen from a plain TCP socket.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startNodeClient, type NodeClient } from '@duet/cli/node-client';
import { startServer, type RunningServer, type StartOptions } from '../src/server.ts';
import { describeWithSeedPython, SEED_SALT_HEX, SeedClient } from './support/seed-python.ts';
import { until } from './support/until.ts';

const servers: RunningServer[] = [];
const pythons: SeedClient[] = [];
const clients: NodeClient[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const python of pythons.splice(0)) python.kill();
  for (const client of clients.splice(0)) client.conversation.leave();
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function gatewayServer(options: StartOptions = {}) {
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    staticDir: '/nonexistent',
    seedGateway: '127.0.0.1:0',
    seedGatewayRoom: `seed-${Math.random().toString(36).slice(2, 10)}`,
    logLevel: 'silent',
    ...options,
  });
  servers.push(server);
  const gateway = server.seedGateway;
  if (!gateway) throw new Error('the gateway did not start');
  return { server, gateway };
}

function python(script: 'alice.py' | 'bob.py', port: number, passphrase = 'pass'): SeedClient {
  const client = new SeedClient(script, { port, passphrase });
  pythons.push(client);
  return client;
}

/** Duet's own client (the terminal client's transport) in the gateway's room. */
async function duet(server: RunningServer, passphrase = 'pass'): Promise<NodeClient> {
  const client = await startNodeClient({
    url: `${server.url.replace('http', 'ws')}/ws`,
    room: server.seedGateway?.room ?? '',
    suite: 'des',
    saltHex: SEED_SALT_HEX,
    passphrase,
  });
  clients.push(client);
  return client;
}

async function tcp(port: number): Promise<Socket & { reads: Buffer[]; ended: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port }) as Socket & { reads: Buffer[]; ended: Promise<void> };
  sockets.push(socket);
  socket.reads = [];
  socket.on('data', (chunk: Buffer) => socket.reads.push(chunk));
  socket.on('error', () => undefined);
  socket.ended = new Promise((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return socket;
}

async function metric(server: RunningServer, line: RegExp): Promise<string | undefined> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return text.split('\n').find((candidate) => line.test(candidate));
}

const TEXTS = ['plain ASCII, 1 2 3', 'accents: naïve café, Ærøskøbing, żółć', 'emoji: 🙂🚀 and 👩🏽‍💻'];

describeWithSeedPython('the original Python clients through the seed gateway', () => {
  it('alice.py and bob.py, run as their listings say, chat both ways; every message exact', async () => {
    const { gateway } = await gatewayServer();
    const alice = python('alice.py', gateway.port);
    const bob = python('bob.py', gateway.port);
    await Promise.all([alice.started(), bob.started()]);
    for (const text of TEXTS) {
      alice.type(text);
      expect(await bob.nextPlaintext()).toBe(text);
      bob.type(`re: ${text}`);
      expect(await alice.nextPlaintext()).toBe(`re: ${text}`);
    }
    alice.type('exit');
    bob.type('exit');
    expect(await alice.exited).toBe(0);
    expect(await bob.exited).toBe(0);
  });

  it('alice.py and Duet’s client chat both ways, even several messages at once', async () => {
    const { server, gateway } = await gatewayServer();
    const alice = python('alice.py', gateway.port);
    await alice.started();
    const bob = await duet(server);
    await until(() => bob.conversation.status === 'ready', 'ready');
    for (const text of TEXTS) bob.conversation.send(text); // paced by the gateway: one read each
    for (const text of TEXTS) expect(await alice.nextPlaintext()).toBe(text);
    // The original has no framing: lines typed faster than the network carries them may merge
    // into one read (docs/protocol.md). People type one at a time; so does this test.
    for (const [i, text] of TEXTS.entries()) {
      alice.type(text);
      await until(() => bob.received.length === i + 1, `message ${i + 1}`);
    }
    expect(bob.received).toEqual(TEXTS);
  });

  it('what the original client says before its partner comes is held and delivered when it does', async () => {
    const { server, gateway } = await gatewayServer();
    const alice = python('alice.py', gateway.port);
    await alice.started();
    alice.type('anyone there?');
    await alice.waitFor(/^Sent IV \+ CipherText: /);
    const bob = await duet(server);
    await until(() => bob.received.length === 1, 'the held message');
    expect(bob.received).toEqual(['anyone there?']);
  });

  it('a wrong passphrase on the Python side: it prints its padding error and disconnects; Duet shows decrypt-failed and goes on', async () => {
    const { server, gateway } = await gatewayServer();
    const mallory = python('alice.py', gateway.port, 'not the passphrase');
    await mallory.started();
    const bob = await duet(server);
    await until(() => bob.conversation.status === 'ready', 'ready');

    mallory.type('can you read me?');
    await until(
      () => bob.events.some((e) => e.type === 'problem' && e.code === 'decrypt-failed' && !e.fatal),
      'decrypt-failed',
    );
    expect(bob.received).toEqual([]);
    expect(bob.conversation.status).toBe('ready');

    bob.conversation.send('hello?');
    // The original's own reaction, word for word (a wrong key fails the padding length
    // check, or, about one frame in 16, the padding bytes check, pycryptodome's "PKCS#7 padding
    // is incorrect.", or, once in a few hundred frames, the UTF-8 decoding after it).
    const { index } = await mallory.waitFor(
      /^decryption error: ((PKCS#7 p|P)adding is incorrect\.|'utf-8' codec)/,
    );
    await mallory.waitFor(/^Will disconnect user$/, index);
    mallory.endInput();
    expect(await mallory.exited).toBe(0);
    await until(() => bob.conversation.status === 'waiting', 'partner-left');

    // Duet's side goes on: the right passphrase in the same seat chats at once.
    const alice = python('alice.py', gateway.port);
    await alice.started();
    await until(() => bob.conversation.status === 'ready', 'ready again');
    bob.conversation.send('still here');
    expect(await alice.nextPlaintext()).toBe('still here');
  });
});

describe('the seed gateway', () => {
  it('is off by default', async () => {
    const server = await startServer({
      port: 0,
      host: '127.0.0.1',
      staticDir: '/nonexistent',
      logLevel: 'silent',
    });
    servers.push(server);
    expect(server.seedGateway).toBeUndefined();
  });

  it('without SEED_GATEWAY_ROOM, generates a room and the link a browser joins it with', async () => {
    const { server, gateway } = await gatewayServer({ seedGatewayRoom: '' });
    expect(gateway.room).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    expect(gateway.link).toBe(`${server.url}/#${gateway.room}&suite=des&salt=${SEED_SALT_HEX}`);
    expect(gateway.host).toBe('127.0.0.1');
  });

  it('rooms of two: a third connection is refused its seat and closed; /metrics counts it', async () => {
    const { server, gateway } = await gatewayServer();
    await tcp(gateway.port);
    await tcp(gateway.port);
    const third = await tcp(gateway.port);
    await third.ended;
    expect(third.reads).toEqual([]); // the original could not read a reason: nothing is sent
    expect(await metric(server, /^duet_seed_gateway_seats_refused_total\{code="room-full"\}/)).toMatch(/ 1$/);
    expect(await metric(server, /^duet_seed_gateway_connections_total\{outcome="accepted"\}/)).toMatch(/ 3$/);
    expect(await metric(server, /^duet_connections /)).toBe('duet_connections 2');
  });

  it('counts against the relay’s connection limits per address', async () => {
    const { server, gateway } = await gatewayServer({ maxConnectionsPerIp: 1 });
    await tcp(gateway.port);
    const refused = await tcp(gateway.port);
    await refused.ended;
    expect(await metric(server, /^duet_seed_gateway_connections_total\{outcome="refused"\}/)).toMatch(/ 1$/);
    expect(await metric(server, /^duet_upgrades_refused_total\{status="429"\}/)).toMatch(/ 1$/);
  });

  it('a read larger than MAX_FRAME_BYTES closes the connection and frees the seat', async () => {
    // Room enough for the Duet client's own control frames (a `resume` with two seat tokens).
    const { server, gateway } = await gatewayServer({ maxFrameBytes: 160 });
    const bob = await duet(server);
    const socket = await tcp(gateway.port);
    await until(() => bob.conversation.status === 'ready', 'ready');
    socket.write(Buffer.alloc(400, 1));
    await socket.ended;
    await until(() => bob.conversation.status === 'waiting', 'partner-left');
  });

  it('the relay’s rate limit applies: a flood is cut down to the burst', async () => {
    const { server, gateway } = await gatewayServer({ messageBurst: 3, messagesPerSecond: 1 });
    const bob = await duet(server);
    const socket = await tcp(gateway.port);
    await until(() => bob.conversation.status === 'ready', 'ready');
    const frames = Array.from({ length: 10 }, (_, i) => Buffer.alloc(16, i));
    for (const frame of frames) {
      await new Promise<void>((resolve) => socket.write(frame, () => resolve()));
      await new Promise((resolve) => setImmediate(resolve)); // one write, one read (no framing)
    }
    await until(() => bob.events.filter((e) => e.type === 'problem').length >= 1, 'the first frames');
    const relayed = await metric(server, /^duet_frames_relayed_total /);
    expect(Number(relayed?.split(' ')[1])).toBeLessThanOrEqual(4); // the join took one token
  });
});
