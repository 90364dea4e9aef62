import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/server.ts';
import { pair, TestClient } from './client.ts';

let server: RunningServer;
let roomCounter = 0;
const newRoom = () => `relay-test-${++roomCounter}`;

beforeAll(async () => {
  server = await startServer({ port: 0, host: '127.0.0.1', staticDir: '/nonexistent' });
});
afterAll(async () => {
  await server.close();
});

describe('relay: rooms of two', () => {
  it('seats the first joiner as initiator and the second as responder, and tells the first', async () => {
    const room = newRoom();
    const a = await TestClient.connect(server.url);
    const b = await TestClient.connect(server.url);
    expect(await a.join(room, 'des')).toEqual({
      type: 'joined',
      room,
      suite: 'des',
      role: 'initiator',
      partner: false,
    });
    expect(await b.join(room, 'des')).toEqual({
      type: 'joined',
      room,
      suite: 'des',
      role: 'responder',
      partner: true,
    });
    expect(await a.control()).toEqual({ type: 'partner-joined' });
    a.close();
    b.close();
  });

  it('relays binary frames byte for byte both ways, from empty to the largest allowed', async () => {
    const [a, b] = await pair(server.url, newRoom());
    for (const size of [0, 1, 8, 100, 20_507, 64 * 1024]) {
      const bytes = randomBytes(size);
      a.sendBinary(bytes);
      expect(Buffer.compare(await b.binary(), bytes)).toBe(0);
      const back = randomBytes(size);
      b.sendBinary(back);
      expect(Buffer.compare(await a.binary(), back)).toBe(0);
    }
    a.close();
    b.close();
  });

  it('refuses a third joiner with room-full, keeps its connection open, and the pair keeps working', async () => {
    const room = newRoom();
    const [a, b] = await pair(server.url, room);
    const c = await TestClient.connect(server.url);
    c.sendJson({ type: 'join', room, suite: 'modern' });
    expect(await c.errorCode()).toBe('room-full');
    // Still connected: it can join another room.
    expect((await c.join(newRoom())).type).toBe('joined');
    a.sendBinary(Buffer.from('still here'));
    expect((await b.binary()).toString()).toBe('still here');
    for (const client of [a, b, c]) client.close();
  });

  it('refuses a joiner with the other suite: suite-mismatch', async () => {
    const room = newRoom();
    const a = await TestClient.connect(server.url);
    await a.join(room, 'modern');
    const b = await TestClient.connect(server.url);
    b.sendJson({ type: 'join', room, suite: 'des' });
    expect(await b.errorCode()).toBe('suite-mismatch');
    a.close();
    b.close();
  });

  it('leave frees the seat at once and tells the partner; the seat can be taken again', async () => {
    const room = newRoom();
    const [a, b] = await pair(server.url, room);
    b.sendJson({ type: 'leave' });
    expect(await a.control()).toEqual({ type: 'partner-left' });
    const c = await TestClient.connect(server.url);
    expect(await c.join(room)).toMatchObject({ type: 'joined', role: 'responder', partner: true });
    expect(await a.control()).toEqual({ type: 'partner-joined' });
    // The one who left may join elsewhere on the same connection.
    expect((await b.join(newRoom())).type).toBe('joined');
    for (const client of [a, b, c]) client.close();
  });

  it('a closed socket frees its seat and tells the partner', async () => {
    const room = newRoom();
    const [a, b] = await pair(server.url, room);
    a.close();
    expect(await b.control()).toEqual({ type: 'partner-left' });
    const c = await TestClient.connect(server.url);
    expect(await c.join(room)).toMatchObject({ type: 'joined', role: 'initiator', partner: true });
    b.close();
    c.close();
  });
});

describe('relay: every error path answers with a code and keeps the connection', () => {
  it.each([
    ['not JSON at all', 'bad-json'],
    ['{"type":"fly"}', 'unknown-type'],
    ['{"type":"join","room":"abc"}', 'bad-message'],
    ['{"type":"join","room":"UPPER CASE","suite":"modern"}', 'bad-room'],
    ['{"type":"join","room":"abcd","suite":"rot13"}', 'bad-suite'],
    ['{"type":"leave"}', 'not-joined'],
    ['{"type":"handshake"}', 'not-joined'],
    [JSON.stringify({ type: 'join', room: 'a'.repeat(2000), suite: 'des' }), 'too-large'],
  ])('%s → %s', async (text, code) => {
    const client = await TestClient.connect(server.url);
    client.sendText(text);
    expect(await client.errorCode()).toBe(code);
    expect((await client.join(newRoom())).type).toBe('joined'); // still usable
    client.close();
  });

  it('binary before joining → not-joined; binary with no partner → no-partner', async () => {
    const client = await TestClient.connect(server.url);
    client.sendBinary(Buffer.from([1, 2, 3]));
    expect(await client.errorCode()).toBe('not-joined');
    await client.join(newRoom());
    client.sendBinary(Buffer.from([1, 2, 3]));
    expect(await client.errorCode()).toBe('no-partner');
    client.sendJson({ type: 'handshake' });
    expect(await client.errorCode()).toBe('no-partner');
    client.close();
  });

  it('a second join on one connection → already-joined', async () => {
    const client = await TestClient.connect(server.url);
    await client.join(newRoom());
    client.sendJson({ type: 'join', room: newRoom(), suite: 'modern' });
    expect(await client.errorCode()).toBe('already-joined');
    client.close();
  });

  it('an oversized binary frame closes the connection with 1009, and the partner is told', async () => {
    const [a, b] = await pair(server.url, newRoom());
    a.sendBinary(randomBytes(64 * 1024 + 1));
    expect((await a.closed).code).toBe(1009);
    expect(await b.control()).toEqual({ type: 'partner-left' });
    b.close();
  });
});

describe('relay: handshake attempts', () => {
  it('a grant reaches both seats with the same attempt number and a fresh 16-byte nonce', async () => {
    const [a, b] = await pair(server.url, newRoom());
    a.sendJson({ type: 'handshake' });
    const toA = await a.control();
    const toB = await b.control();
    expect(toA).toEqual(toB);
    expect(toA).toMatchObject({
      type: 'handshake',
      attempt: 1,
      nonce: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    b.sendJson({ type: 'handshake' });
    const second = await b.control();
    expect(second).toMatchObject({ type: 'handshake', attempt: 2 });
    expect(second).not.toEqual(toA);
    a.close();
    b.close();
  });
});
