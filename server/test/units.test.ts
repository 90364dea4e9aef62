import { describe, expect, it } from 'vitest';
import { configFromEnv, DEFAULT_CONFIG, envName } from '../src/config.ts';
import { HandshakeBudget } from '../src/handshake-budget.ts';
import { Rooms } from '../src/rooms.ts';
import { TokenBucket } from '../src/token-bucket.ts';

describe('TokenBucket', () => {
  it('gives its capacity at once, then one token per refill period', () => {
    const bucket = new TokenBucket(3, 100, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(bucket.waitMs(0)).toBe(100);
    expect(bucket.take(99)).toBe(false);
    expect(bucket.take(100)).toBe(true);
    expect(bucket.isFull(10_000)).toBe(true);
  });

  it('never holds more than its capacity, and a clock going backwards adds nothing', () => {
    const bucket = new TokenBucket(2, 10, 1000);
    bucket.take(1000);
    bucket.take(1000);
    expect(bucket.take(500)).toBe(false);
    expect(bucket.take(1_000_000)).toBe(true);
    expect(bucket.take(1_000_000)).toBe(true);
    expect(bucket.take(1_000_000)).toBe(false);
  });
});

describe('HandshakeBudget', () => {
  const options = { burst: 2, refillMs: 1000, memoryMs: 10_000, maxRooms: 3 };

  it('counts attempts per room and refuses with the wait once the bucket is empty', () => {
    const budget = new HandshakeBudget(options);
    expect(budget.take('r', 0)).toEqual({ granted: true, attempt: 1 });
    expect(budget.take('r', 0)).toEqual({ granted: true, attempt: 2 });
    expect(budget.take('r', 0)).toEqual({ granted: false, retryAfterMs: 1000 });
    expect(budget.take('other', 0)).toEqual({ granted: true, attempt: 1 });
    expect(budget.take('r', 1000)).toEqual({ granted: true, attempt: 3 });
  });

  it('forgets a room only after memoryMs without use, and remembers at most maxRooms', () => {
    const budget = new HandshakeBudget(options);
    budget.take('r', 0);
    budget.take('r', 0);
    expect(budget.take('r', 9_999)).toMatchObject({ granted: true, attempt: 3 });
    budget.take('a', 20_000);
    expect(budget.size).toBe(1); // 'r' forgotten
    budget.take('b', 20_000);
    budget.take('c', 20_000);
    budget.take('d', 20_000);
    expect(budget.size).toBe(3);
  });
});

describe('Rooms', () => {
  it('seats two, refuses a third, fixes the suite, and deletes empty rooms', () => {
    const rooms = new Rooms<string>(10);
    const a = rooms.join('room', 'modern', 'alice');
    expect(a).toMatchObject({ ok: true, seat: 0, role: 'initiator', partner: undefined });
    expect(rooms.join('room', 'des', 'bob')).toEqual({ ok: false, code: 'suite-mismatch' });
    const b = rooms.join('room', 'modern', 'bob');
    expect(b).toMatchObject({ ok: true, seat: 1, role: 'responder', partner: 'alice' });
    expect(rooms.join('room', 'modern', 'carol')).toEqual({ ok: false, code: 'room-full' });
    if (!a.ok || !b.ok) throw new Error('unreachable');
    expect(rooms.leave(a.room, a.seat)).toBe('bob');
    expect(rooms.join('room', 'modern', 'carol')).toMatchObject({ ok: true, seat: 0, partner: 'bob' });
    rooms.leave(b.room, 0);
    rooms.leave(b.room, 1);
    expect(rooms.size).toBe(0);
  });
});

describe('config from the environment', () => {
  it('uses the defaults when nothing is set', () => {
    expect(configFromEnv({})).toEqual(DEFAULT_CONFIG);
  });

  it('reads every limit from its SNAKE_CASE variable', () => {
    expect(envName('maxFrameBytes')).toBe('MAX_FRAME_BYTES');
    const config = configFromEnv({
      PORT: '9000',
      HOST: '0.0.0.0',
      MAX_FRAME_BYTES: '1024',
      HANDSHAKE_BURST: '3',
    });
    expect(config).toMatchObject({ port: 9000, host: '0.0.0.0', maxFrameBytes: 1024, handshakeBurst: 3 });
  });

  it('normalises ALLOWED_ORIGINS to origins', () => {
    expect(
      configFromEnv({ ALLOWED_ORIGINS: 'https://a.example/, http://b.example:8080' }).allowedOrigins,
    ).toEqual(['https://a.example', 'http://b.example:8080']);
  });

  it('refuses bad values with a message naming each one', () => {
    const read = () => configFromEnv({ PORT: 'eighty', MAX_ROOMS: '-1', ALLOWED_ORIGINS: 'not a url' });
    expect(read).toThrow(/PORT="eighty"/);
    expect(read).toThrow(/MAX_ROOMS="-1"/);
    expect(read).toThrow(/ALLOWED_ORIGINS="not a url"/);
  });
});
