import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pair, TestClient } from './client.ts';
import { useServer } from './support/servers.ts';

let roomCounter = 0;
const newRoom = () => `relay-test-${++roomCounter}`;
const TOKEN = expect.stringMatching(/^[0-9a-f]{32}$/);

// A high frame rate: the rate limit has its own tests (limits.test.ts).
const relay = useServer({ messageBurst: 100_000 });

describe('relay: rooms of two', () => {
  it('seats the first joiner as initiator and the second as responder, and tells the first', async () => {
    const room = newRoom();
    const a = await TestClient.connect(relay().url);
    const b = await TestClient.connect(relay().url);
    expect(await a.join(room, 'des')).toEqual({
      type: 'joined',
      room,
      suite: 'des',
      role: 'initiator',
      partner: false,
      partnerAway: false,
      token: TOKEN,
      rate: { burst: 100_000, perSecond: 200 }, // the relay's frame rate for this connection
    });
    expect(await b.join(room, 'des')).toEqual({
      type: 'joined',
      room,
      suite: 'des',
      role: 'responder',
      partner: true,
      partnerAway: false,
      token: TOKEN,
      rate: { burst: 100_000, perSecond: 200 }, // the relay's frame rate for this connection
    });
    expect(await a.control()).toEqual({ type: 'partner-joined' });
    a.close();
    b.close();
  });

  it('relays binary frames byte for byte both ways, from empty to the largest allowed', async () => {
    const [a, b] = await pair(relay().url, newRoom());
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

  it('relays random payloads unchanged and in order (property)', async () => {
    const [a, b] = await pair(relay().url, newRoom());
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 4096 }), { minLength: 1, maxLength: 8 }),
        async (frames) => {
          for (const frame of frames) a.sendBinary(frame);
          for (const frame of frames) expect(new Uint8Array(await b.binary())).toEqual(frame);
        },
      ),
      { numRuns: 50 },
    );
    a.close();
    b.close();
  });

  it('refuses a third joiner with room-full, keeps its connection open, and the pair keeps working', async () => {
    const room = newRoom();
    const [a, b] = await pair(relay().url, room);
    const c = await TestClient.connect(relay().url);
    c.sendJson({ type: 'join', room, suite: 'modern' });
    expect(await c.errorCode()).toBe('room-full');
    // Still connected: it can join another room.
    expect((await c.join(newRoom())).type).toBe('joined');
    a.sendBinary(Buffer.from('still here'));
    expect((await b.binary()).toString()).toBe('still here');
    for (const client of [a, b, c]) client.close();
  });

  it('refuses a joiner with the other suite: suite-mismatch, and the one seated is told', async () => {
    const room = newRoom();
    const a = await TestClient.connect(relay().url);
    await a.join(room, 'modern');
    const b = await TestClient.connect(relay().url);
    b.sendJson({ type: 'join', room, suite: 'des' });
    expect(await b.errorCode()).toBe('suite-mismatch');
    expect(await a.control()).toEqual({ type: 'partner-refused', code: 'suite-mismatch', suite: 'des' });
    a.close();
    b.close();
  });

  it('leave frees the seat at once and tells the partner; the seat can be taken again', async () => {
    const room = newRoom();
    const [a, b] = await pair(relay().url, room);
    b.sendJson({ type: 'leave' });
    expect(await a.control()).toEqual({ type: 'partner-left' });
    const c = await TestClient.connect(relay().url);
    expect(await c.join(room)).toMatchObject({ type: 'joined', role: 'responder', partner: true });
    expect(await a.control()).toEqual({ type: 'partner-joined' });
    // The one who left may join elsewhere on the same connection.
    expect((await b.join(newRoom())).type).toBe('joined');
    for (const client of [a, b, c]) client.close();
  });

  it.each([
    ['code 1000', 1000],
    ['code 1001 (a page going away)', 1001],
  ])('a socket closed with a closing handshake (%s) frees its seat at once', async (_name, code) => {
    const room = newRoom();
    const [a, b] = await pair(relay().url, room);
    a.close(code);
    expect(await b.control()).toEqual({ type: 'partner-left' });
    const c = await TestClient.connect(relay().url);
    expect(await c.join(room)).toMatchObject({ type: 'joined', role: 'initiator', partner: true });
    b.close();
    c.close();
  });
});

/** A join as a page of `version` sends it; `undefined` is a page from before versions. */
const joinAt = (room: string, version: number | undefined, suite = 'modern') => ({
  type: 'join',
  room,
  suite,
  ...(version === undefined ? {} : { version }),
});

describe('relay: versions (docs/protocol.md, "Versions")', () => {
  it.each([
    ['a page from before versions, then a version-2 page', undefined, 2],
    ['a version-2 page, then a page from before versions', 2, undefined],
    ['version 3, then version 2', 3, 2],
  ])('%s: the joiner gets suite-mismatch, and so does the page in the room', async (_name, first, second) => {
    const room = newRoom();
    const a = await TestClient.connect(relay().url);
    a.sendJson(joinAt(room, first));
    expect(await a.control()).toMatchObject({ type: 'joined', partner: false });
    const b = await TestClient.connect(relay().url);
    b.sendJson(joinAt(room, second));
    expect(await b.errorCode()).toBe('suite-mismatch');
    expect(await a.errorCode()).toBe('suite-mismatch');
    // The page in the room keeps its seat; a page of its own version still joins it.
    const c = await TestClient.connect(relay().url);
    c.sendJson(joinAt(room, first));
    expect(await c.control()).toMatchObject({ type: 'joined', role: 'responder', partner: true });
    expect(await a.control()).toEqual({ type: 'partner-joined' });
    for (const client of [a, b, c]) client.close();
  });

  it('no version is version 1: they sit together, and so do equal versions', async () => {
    for (const [first, second, suite] of [
      [undefined, 1, 'des'],
      [1, undefined, 'modern'],
      [2, 2, 'modern'],
    ] as const) {
      const room = newRoom();
      const a = await TestClient.connect(relay().url);
      const b = await TestClient.connect(relay().url);
      a.sendJson(joinAt(room, first, suite));
      expect((await a.control()).type).toBe('joined');
      b.sendJson(joinAt(room, second, suite));
      expect(await b.control()).toMatchObject({ type: 'joined', partner: true });
      a.close();
      b.close();
    }
  });

  it('the other suite, whatever its version, is told to the page in the room as partner-refused', async () => {
    const room = newRoom();
    const a = await TestClient.connect(relay().url);
    a.sendJson(joinAt(room, 2));
    expect((await a.control()).type).toBe('joined');
    const b = await TestClient.connect(relay().url);
    b.sendJson(joinAt(room, 1, 'des'));
    expect(await b.errorCode()).toBe('suite-mismatch');
    expect(await a.control()).toEqual({ type: 'partner-refused', code: 'suite-mismatch', suite: 'des' });
    a.close();
    b.close();
  });

  it.each([0, -1, 1.5, 65_536, '2', null])('a join with version %j is bad-message', async (version) => {
    const client = await TestClient.connect(relay().url);
    client.sendJson({ type: 'join', room: newRoom(), suite: 'modern', version });
    expect(await client.errorCode()).toBe('bad-message');
    client.close();
  });
});

describe('relay: every error path answers with a code and keeps the connection', () => {
  it.each([
    { what: 'not JSON', text: 'not JSON at all', code: 'bad-json' },
    { what: 'a JSON array', text: '[1,2,3]', code: 'unknown-type' },
    { what: 'an unknown type', text: '{"type":"fly"}', code: 'unknown-type' },
    { what: 'a missing field', text: '{"type":"join","room":"abc"}', code: 'bad-message' },
    { what: 'an extra field', text: '{"type":"leave","extra":1}', code: 'bad-message' },
    {
      what: 'a bad room code',
      text: '{"type":"join","room":"UPPER CASE","suite":"modern"}',
      code: 'bad-room',
    },
    { what: 'an unknown suite', text: '{"type":"join","room":"abcd","suite":"rot13"}', code: 'bad-suite' },
    { what: 'leave before join', text: '{"type":"leave"}', code: 'not-joined' },
    { what: 'handshake before join', text: '{"type":"handshake"}', code: 'not-joined' },
    {
      what: 'a 2,000-byte text frame',
      text: JSON.stringify({ type: 'join', room: 'a'.repeat(2000), suite: 'des' }),
      code: 'too-large',
    },
    {
      // 400 three-byte characters: 400 UTF-16 units but 1,200 bytes, over the 1,024-byte limit.
      what: 'a text frame of 1,024 characters but more bytes',
      text: JSON.stringify({ type: 'join', room: '€'.repeat(400), suite: 'des' }),
      code: 'too-large',
    },
  ])('$what → $code', async ({ text, code }) => {
    const client = await TestClient.connect(relay().url);
    client.sendText(text);
    expect(await client.errorCode()).toBe(code);
    expect((await client.join(newRoom())).type).toBe('joined'); // still usable
    client.close();
  });

  it('an error message never echoes the input', async () => {
    const client = await TestClient.connect(relay().url);
    const marker = 'zqxjmarker';
    for (const text of [
      marker,
      `{"type":"${marker}"}`,
      `{"type":"join","room":"${marker}!","suite":"des"}`,
    ]) {
      client.sendText(text);
      const reply = await client.control();
      expect(reply.type).toBe('error');
      expect(JSON.stringify(reply)).not.toContain(marker);
    }
    client.close();
  });

  it('binary before joining → not-joined; binary or handshake with no partner → no-partner', async () => {
    const client = await TestClient.connect(relay().url);
    client.sendBinary(Buffer.from([1, 2, 3]));
    expect(await client.errorCode()).toBe('not-joined');
    await client.join(newRoom());
    client.sendBinary(Buffer.from([1, 2, 3]));
    expect(await client.errorCode()).toBe('no-partner');
    client.sendJson({ type: 'handshake' });
    expect(await client.errorCode()).toBe('no-partner');
    client.close();
  });

  it('a binary frame right behind join waits for the join: no-partner, never not-joined', async () => {
    // The join is still being handled (the directory is asynchronous) when the frame arrives:
    // a frame goes at once only when nothing of its connection is queued ahead of it.
    const client = await TestClient.connect(relay().url);
    client.sendJson({ type: 'join', room: newRoom(), suite: 'modern' });
    client.sendBinary(Buffer.from([1, 2, 3]));
    expect((await client.control()).type).toBe('joined');
    expect(await client.errorCode()).toBe('no-partner');
    client.close();
  });

  it('a second join on one connection → already-joined', async () => {
    const client = await TestClient.connect(relay().url);
    await client.join(newRoom());
    client.sendJson({ type: 'join', room: newRoom(), suite: 'modern' });
    expect(await client.errorCode()).toBe('already-joined');
    client.close();
  });

  it('an oversized binary frame closes the connection with 1009, and the partner is told', async () => {
    const [a, b] = await pair(relay().url, newRoom());
    a.sendBinary(randomBytes(64 * 1024 + 1));
    expect((await a.closed).code).toBe(1009);
    expect(await b.control()).toEqual({ type: 'partner-left' });
    b.close();
  });

  it('a text frame that is not UTF-8 closes the connection with 1007 (ws’s own check)', async () => {
    const client = await TestClient.connect(relay().url);
    // Sent as a text frame: ws on the client does not validate what it sends.
    client.socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await client.closed).code).toBe(1007);
  });
});

describe('relay: handshake attempts', () => {
  it('a grant reaches both seats with the same attempt number and a fresh 16-byte nonce', async () => {
    const [a, b] = await pair(relay().url, newRoom());
    a.sendJson({ type: 'handshake' });
    const toA = await a.control();
    const toB = await b.control();
    expect(toA).toEqual(toB);
    expect(toA).toEqual({ type: 'handshake', attempt: 1, nonce: TOKEN });
    b.sendJson({ type: 'handshake' });
    const second = await b.control();
    expect(await a.control()).toEqual(second);
    expect(second).toMatchObject({ type: 'handshake', attempt: 2 });
    expect(second).not.toEqual(toA);
    a.close();
    b.close();
  });
});

describe('relay: the first attempt granted with the seat', () => {
  const seatPair = async (room: string, suite: string, ask: [boolean, boolean]) => {
    const a = await TestClient.connect(relay().url);
    const b = await TestClient.connect(relay().url);
    a.sendJson({ type: 'join', room, suite, ...(ask[0] ? { grantOnSeat: true } : {}) });
    expect(await a.control()).toMatchObject({ type: 'joined', partner: false });
    b.sendJson({ type: 'join', room, suite, ...(ask[1] ? { grantOnSeat: true } : {}) });
    expect(await b.control()).toMatchObject({ type: 'joined', partner: true });
    expect(await a.control()).toEqual({ type: 'partner-joined' });
    return [a, b] as const;
  };

  it('a join that fills a modern room and asks for it: both seats get attempt 1 at once, unasked', async () => {
    const [a, b] = await seatPair(newRoom(), 'modern', [false, true]);
    const toA = await a.control();
    expect(toA).toEqual({ type: 'handshake', attempt: 1, nonce: TOKEN });
    expect(await b.control()).toEqual(toA);
    // Asking afterwards is a new attempt, as ever.
    a.sendJson({ type: 'handshake' });
    expect(await a.control()).toMatchObject({ type: 'handshake', attempt: 2 });
    a.close();
    b.close();
  });

  it.each([
    ['the joiner did not ask (the first seat did)', 'modern', [true, false]],
    ['des', 'des', [true, true]],
  ] as const)(
    'no grant with the seat when %s: the first request gets attempt 1',
    async (_name, suite, ask) => {
      const [a, b] = await seatPair(newRoom(), suite, [...ask]);
      a.sendJson({ type: 'handshake' });
      expect(await a.control()).toMatchObject({ type: 'handshake', attempt: 1 });
      expect(await b.control()).toMatchObject({ type: 'handshake', attempt: 1 });
      // Nothing else was queued for a: the partner's next frame is what comes.
      b.sendBinary(Buffer.from([7]));
      expect([...(await a.binary())]).toEqual([7]);
      a.close();
      b.close();
    },
  );
});

describe('relay: acks', () => {
  it('acknowledges every binary frame read on the connection, relayed or refused', async () => {
    const client = await TestClient.connect(relay().url);
    client.sendBinary(Buffer.from([1]));
    expect(await client.errorCode()).toBe('not-joined');
    await client.ackedAtLeast(1);
    const [a, b] = await pair(relay().url, newRoom());
    for (let i = 0; i < 30; i++) a.sendBinary(Buffer.from([i]));
    await a.ackedAtLeast(30);
    expect(a.acked).toBe(30);
    for (let i = 0; i < 30; i++) expect((await b.binary())[0]).toBe(i);
    expect(b.acked).toBe(0); // b sent nothing
    for (const c of [client, a, b]) c.close();
  });
});
