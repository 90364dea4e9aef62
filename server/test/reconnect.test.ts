/**
 * Held seats: a connection lost without a closing handshake keeps its seat for `seatGraceMs`,
 * and `resume` with the seat's token takes it back (docs/protocol.md, "Reconnecting").
 */
import { describe, expect, it, vi } from 'vitest';
import type { ServerMessage } from '@duet/core/protocol/control';
import { pair, TestClient } from './client.ts';
import { useServers } from './support/servers.ts';

const serve = useServers();

const TOKEN = expect.stringMatching(/^[0-9a-f]{32}$/);

/** Pairs two clients and returns them with their seat tokens. */
async function seatedPair(url: string, room: string) {
  const a = await TestClient.connect(url);
  const b = await TestClient.connect(url);
  const joinedA = await a.join(room);
  const joinedB = await b.join(room);
  await a.control(); // partner-joined
  if (joinedA.type !== 'joined' || joinedB.type !== 'joined') throw new Error('not joined');
  return { a, b, tokenA: joinedA.token, tokenB: joinedB.token };
}

async function resume(client: TestClient, room: string, token: string): Promise<ServerMessage> {
  client.sendJson({ type: 'resume', room, token });
  return client.control();
}

describe('relay: held seats and resume', () => {
  it('a cut connection holds its seat: the partner is told partner-away, then partner-back on resume', async () => {
    const server = await serve();
    const { a, b, tokenA } = await seatedPair(server.url, 'held-room');
    a.cut();
    expect(await b.control()).toEqual({ type: 'partner-away' });

    const a2 = await TestClient.connect(server.url);
    const resumed = await resume(a2, 'held-room', tokenA);
    expect(resumed).toEqual({
      type: 'resumed',
      room: 'held-room',
      suite: 'modern',
      role: 'initiator',
      partner: true,
      partnerAway: false,
      token: TOKEN,
      rate: { burst: 200, perSecond: 200 },
    });
    expect(resumed).not.toMatchObject({ token: tokenA }); // a fresh token every time
    expect(await b.control()).toEqual({ type: 'partner-back' });

    a2.sendBinary(Buffer.from('back again'));
    expect((await b.binary()).toString()).toBe('back again');
    b.sendBinary(Buffer.from('welcome'));
    expect((await a2.binary()).toString()).toBe('welcome');
    a2.close();
    b.close();
  });

  it('while the partner is away, frames and handshakes get no-partner and a newcomer gets room-full', async () => {
    const server = await serve();
    const { a, b } = await seatedPair(server.url, 'away-room');
    a.cut();
    expect(await b.control()).toEqual({ type: 'partner-away' });
    b.sendBinary(Buffer.from([1]));
    expect(await b.errorCode()).toBe('no-partner');
    b.sendJson({ type: 'handshake' });
    expect(await b.errorCode()).toBe('no-partner');
    const c = await TestClient.connect(server.url);
    c.sendJson({ type: 'join', room: 'away-room', suite: 'modern' });
    expect(await c.errorCode()).toBe('room-full');
    b.close();
    c.close();
  });

  it('a joiner who finds the partner seat held is told partnerAway, and partner-back when it returns', async () => {
    const server = await serve();
    const { a, b, tokenB } = await seatedPair(server.url, 'rejoin-room');
    b.cut();
    expect(await a.control()).toEqual({ type: 'partner-away' });
    a.sendJson({ type: 'leave' });
    const c = await TestClient.connect(server.url);
    expect(await c.join('rejoin-room')).toMatchObject({
      role: 'initiator',
      partner: true,
      partnerAway: true,
    });
    // b's partner (a) left while b was away: b cannot continue that conversation.
    const b2 = await TestClient.connect(server.url);
    expect(await resume(b2, 'rejoin-room', tokenB)).toMatchObject({ type: 'error', code: 'resume-failed' });
    expect(await c.control()).toEqual({ type: 'partner-left' });
    // The seat was released: b joins afresh and c sees a new partner.
    expect(await b2.join('rejoin-room')).toMatchObject({ type: 'joined', role: 'responder', partner: true });
    expect(await c.control()).toEqual({ type: 'partner-joined' });
    for (const client of [a, b2, c]) client.close();
  });

  it('a seat held while alone is resumed with whoever joined since', async () => {
    const server = await serve();
    const a = await TestClient.connect(server.url);
    const joined = await a.join('alone-room');
    if (joined.type !== 'joined') throw new Error('not joined');
    a.cut();
    const b = await TestClient.connect(server.url);
    expect(await b.join('alone-room')).toMatchObject({ role: 'responder', partner: true, partnerAway: true });
    const a2 = await TestClient.connect(server.url);
    expect(await resume(a2, 'alone-room', joined.token)).toMatchObject({
      type: 'resumed',
      role: 'initiator',
      partner: true,
      partnerAway: false,
    });
    expect(await b.control()).toEqual({ type: 'partner-back' });
    a2.close();
    b.close();
  });

  it('the seat is freed after seatGraceMs: the partner gets partner-left and the token no longer works', async () => {
    const server = await serve({ seatGraceMs: 50 });
    const { a, b, tokenA } = await seatedPair(server.url, 'grace-room');
    a.cut();
    expect(await b.control()).toEqual({ type: 'partner-away' });
    expect(await b.control()).toEqual({ type: 'partner-left' });
    const a2 = await TestClient.connect(server.url);
    expect(await resume(a2, 'grace-room', tokenA)).toMatchObject({ type: 'error', code: 'resume-failed' });
    expect(await a2.join('grace-room')).toMatchObject({ type: 'joined', role: 'initiator', partner: true });
    expect(await b.control()).toEqual({ type: 'partner-joined' });
    a2.close();
    b.close();
  });

  it('a room whose last held seat expires is deleted', async () => {
    const server = await serve({ seatGraceMs: 50 });
    const a = await TestClient.connect(server.url);
    await a.join('vanishing-room');
    a.cut();
    const c = await TestClient.connect(server.url);
    c.sendJson({ type: 'join', room: 'vanishing-room', suite: 'des' });
    expect(await c.errorCode()).toBe('suite-mismatch'); // the held seat keeps the room and its suite
    await vi.waitFor(() => expect(server.stats().rooms).toBe(0));
    expect(await c.join('vanishing-room', 'des')).toMatchObject({ type: 'joined', role: 'initiator' });
    c.close();
  });

  it('resume with a wrong, malformed or stale token → resume-failed; the connection stays usable', async () => {
    const server = await serve();
    const { a, b, tokenA } = await seatedPair(server.url, 'token-room');
    a.cut();
    await b.control(); // partner-away
    const mallory = await TestClient.connect(server.url);
    for (const [room, token] of [
      ['token-room', '0'.repeat(32)],
      ['token-room', 'not-a-token'],
      ['token-room', tokenA.toUpperCase()],
      ['other-room', tokenA],
      ['NOT A ROOM', tokenA],
    ] as const) {
      expect(await resume(mallory, room, token)).toMatchObject({ type: 'error', code: 'resume-failed' });
    }
    mallory.sendJson({ type: 'resume', room: 'token-room' });
    expect(await mallory.errorCode()).toBe('bad-message');
    // The seat is still held for its owner.
    const a2 = await TestClient.connect(server.url);
    expect(await resume(a2, 'token-room', tokenA)).toMatchObject({ type: 'resumed' });
    expect(await resume(mallory, 'token-room', tokenA)).toMatchObject({ code: 'resume-failed' }); // spent
    for (const client of [a2, b, mallory]) client.close();
  });

  it('resume on a connection that is already seated → already-joined', async () => {
    const server = await serve();
    const { a, b, tokenA } = await seatedPair(server.url, 'double-room');
    a.sendJson({ type: 'resume', room: 'double-room', token: tokenA });
    expect(await a.errorCode()).toBe('already-joined');
    a.close();
    b.close();
  });

  it('resume while the old connection still looks alive replaces it (closed with 1000)', async () => {
    const server = await serve();
    const { a, b, tokenA } = await seatedPair(server.url, 'takeover-room');
    const a2 = await TestClient.connect(server.url);
    expect(await resume(a2, 'takeover-room', tokenA)).toMatchObject({ type: 'resumed', role: 'initiator' });
    expect((await a.closed).code).toBe(1000);
    expect(await b.control()).toEqual({ type: 'partner-back' });
    b.sendBinary(Buffer.from('to the new one'));
    expect((await a2.binary()).toString()).toBe('to the new one');
    a2.close();
    b.close();
  });

  it('a protocol violation (oversized frame) frees the seat at once instead of holding it', async () => {
    const server = await serve({ maxFrameBytes: 1024 });
    const [a, b] = await pair(server.url, 'violation-room');
    a.sendBinary(Buffer.alloc(2048));
    expect((await a.closed).code).toBe(1009);
    expect(await b.control()).toEqual({ type: 'partner-left' });
    b.close();
  });

  it('a peer that stops answering pings is cut by the heartbeat and its seat held', async () => {
    const server = await serve({ heartbeatMs: 30 });
    const a = await TestClient.connect(server.url, {}, { autoPong: false });
    const b = await TestClient.connect(server.url);
    await a.join('heartbeat-room');
    await b.join('heartbeat-room');
    await a.control(); // partner-joined
    expect(await b.control()).toEqual({ type: 'partner-away' });
    expect((await a.closed).code).toBe(1006);
    b.close();
  });
});

describe('relay: a lost answer is recovered by asking again (docs/protocol.md, "Lost answers")', () => {
  const mine = 'a1'.repeat(16);
  const next = 'b2'.repeat(16);

  it('a join repeated with its token gets the same seat back; the partner starts a new session', async () => {
    const server = await serve();
    const a = await TestClient.connect(server.url);
    a.sendJson({ type: 'join', room: 'again-room', suite: 'modern', token: mine });
    expect(await a.control()).toMatchObject({ type: 'joined', role: 'initiator', token: mine });
    const b = await TestClient.connect(server.url);
    expect(await b.join('again-room')).toMatchObject({ type: 'joined', role: 'responder' });
    expect(await a.control()).toEqual({ type: 'partner-joined' });

    a.cut(); // as if `joined` had been lost with the link
    expect(await b.control()).toEqual({ type: 'partner-away' });
    const a2 = await TestClient.connect(server.url);
    a2.sendJson({ type: 'join', room: 'again-room', suite: 'modern', token: mine });
    expect(await a2.control()).toMatchObject({
      type: 'joined',
      role: 'initiator',
      partner: true,
      token: mine,
    });
    expect(await b.control()).toEqual({ type: 'partner-joined' });
    a2.sendBinary(Buffer.from('same seat'));
    expect((await b.binary()).toString()).toBe('same seat');
    // The room really is full to anybody else, and says so.
    const c = await TestClient.connect(server.url);
    c.sendJson({ type: 'join', room: 'again-room', suite: 'modern', token: next });
    expect(await c.errorCode()).toBe('room-full');
    for (const client of [a2, b, c]) client.close();
  });

  it('a join repeated while the first connection still sits there replaces it (closed with 1000)', async () => {
    const server = await serve();
    const a = await TestClient.connect(server.url);
    a.sendJson({ type: 'join', room: 'twice-room', suite: 'des', token: mine });
    await a.control();
    const a2 = await TestClient.connect(server.url);
    a2.sendJson({ type: 'join', room: 'twice-room', suite: 'des', token: mine });
    expect(await a2.control()).toMatchObject({ type: 'joined', role: 'initiator', partner: false });
    expect((await a.closed).code).toBe(1000);
    expect(server.stats().rooms).toBe(1);
    a2.close();
  });

  it('a resume repeated with the same pair after a lost `resumed` gets the seat back; then the old token is spent', async () => {
    const server = await serve();
    const { a, b, tokenA } = await seatedPair(server.url, 'repeat-room');
    a.cut();
    await b.control(); // partner-away
    const a2 = await TestClient.connect(server.url);
    a2.sendJson({ type: 'resume', room: 'repeat-room', token: tokenA, next });
    expect(await a2.control()).toMatchObject({ type: 'resumed', token: next });
    expect(await b.control()).toEqual({ type: 'partner-back' });
    a2.cut(); // `resumed` lost with the link
    await b.control(); // partner-away
    const a3 = await TestClient.connect(server.url);
    a3.sendJson({ type: 'resume', room: 'repeat-room', token: tokenA, next });
    expect(await a3.control()).toMatchObject({ type: 'resumed', role: 'initiator', token: next });
    expect(await b.control()).toEqual({ type: 'partner-back' });
    // The client moves on to a newer token: the older ones no longer take the seat.
    const a4 = await TestClient.connect(server.url);
    a4.sendJson({ type: 'resume', room: 'repeat-room', token: next, next: mine });
    expect(await a4.control()).toMatchObject({ type: 'resumed', token: mine });
    expect((await a3.closed).code).toBe(1000);
    const mallory = await TestClient.connect(server.url);
    mallory.sendJson({ type: 'resume', room: 'repeat-room', token: tokenA, next });
    expect(await mallory.errorCode()).toBe('resume-failed');
    for (const client of [a4, b, mallory]) client.close();
  });

  it('a malformed client-chosen token is bad-message', async () => {
    const server = await serve();
    const a = await TestClient.connect(server.url);
    a.sendJson({ type: 'join', room: 'bad-token-room', suite: 'modern', token: 'AB'.repeat(16) });
    expect(await a.errorCode()).toBe('bad-message');
    a.sendJson({ type: 'resume', room: 'bad-token-room', token: mine, next: 'short' });
    expect(await a.errorCode()).toBe('bad-message');
    a.close();
  });
});
