import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { randomBytes, toHex, utf8Encode } from '../src/bytes.ts';
import { decodeFrame, encodeFrame, MAX_FRAME_BYTES, type ModernFrame } from '../src/crypto/modern-frame.ts';
import { MAX_DATA_BYTES } from '../src/crypto/padding.ts';
import { nobleX25519, type X25519 } from '../src/crypto/x25519.ts';
import { duetError, isDuetError } from '../src/errors.ts';
import type { ChannelEffect } from '../src/session/channel.ts';
import { createModernChannel } from '../src/session/modern-channel.ts';
import { MAX_SKIP, SKIPPED_KEY_TTL_MS } from '../src/session/double-ratchet.ts';
import { flipBit, frameOf, MemoryRelay } from './modern-pair.ts';

const RUNS = { numRuns: 50 };

async function readyPair(passphrase = 'correct horse battery staple'): Promise<MemoryRelay> {
  const relay = MemoryRelay.pair(passphrase);
  await relay.start();
  expect(relay.isReady('a') && relay.isReady('b')).toBe(true);
  return relay;
}

function typesOf(effects: ChannelEffect[]): string[] {
  return effects.map((e) => (e.type === 'transmit' ? `transmit ${decodeFrame(e.frame).type}` : e.type));
}

function failures(relay: MemoryRelay, side: 'a' | 'b'): string[] {
  return relay.of(side, 'failed').map((e) => e.code);
}

describe('modern channel: handshake', () => {
  it('runs hello, CPace and key confirmation in the documented order', async () => {
    const relay = await readyPair();
    expect(typesOf(relay.effects.a)).toEqual([
      'request-handshake',
      'transmit hello',
      'transmit cpace-a',
      'transmit confirm',
      'ready',
    ]);
    expect(typesOf(relay.effects.b)).toEqual(['transmit hello', 'transmit cpace-b', 'ready']);
    expect(relay.attempt).toBe(1);
  });

  it('matches passphrases after NFKC normalisation', async () => {
    const relay = MemoryRelay.pair('\ufb01sh and chips', 'fish and chips');
    await relay.start();
    expect(relay.isReady('a') && relay.isReady('b')).toBe(true);
  });

  it('binds the room: the same passphrase in another room is a mismatch', async () => {
    const relay = MemoryRelay.pair('same passphrase', 'same passphrase', 'room-one', 'room-two');
    await relay.start();
    expect(failures(relay, 'a')).toEqual(['passphrase-mismatch']);
    expect(failures(relay, 'b')).toEqual(['passphrase-mismatch']);
  });

  it('a wrong passphrase never yields ready, both sides fail, and a retry on both sides succeeds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 24 }),
        fc.string({ minLength: 1, maxLength: 24 }),
        async (passA, passB) => {
          fc.pre(passA.normalize('NFKC') !== passB.normalize('NFKC') && passB.normalize('NFKC') !== '');
          fc.pre(passA.normalize('NFKC') !== '');
          const relay = MemoryRelay.pair(passA, passB);
          await relay.start();
          expect(relay.of('a', 'ready')).toEqual([]);
          expect(relay.of('b', 'ready')).toEqual([]);
          expect(failures(relay, 'a')).toEqual(['passphrase-mismatch']);
          expect(failures(relay, 'b')).toEqual(['passphrase-mismatch']);
          await expect(relay.a.send('hi')).rejects.toSatisfy((e) => isDuetError(e, 'no-partner'));

          await relay.retry('b', passA);
          await relay.retry('a', passA);
          expect(relay.isReady('a') && relay.isReady('b')).toBe(true);
          await relay.send('b', 'fixed it');
          expect(relay.of('a', 'message').map((m) => m.text)).toEqual(['fixed it']);
        },
      ),
      RUNS,
    );
  });

  it('a retry uses the grant stored while failed and the hello buffered for it', async () => {
    const relay = MemoryRelay.pair('right', 'wrong');
    await relay.start();
    await relay.retry('b', 'right'); // b asks; the relay grants; a is failed and stores it
    expect(relay.attempt).toBe(2);
    expect(relay.isReady('b')).toBe(false);
    await relay.retry('a', 'right'); // a uses the stored grant and b's buffered hello
    expect(relay.attempt).toBe(2);
    expect(relay.isReady('a') && relay.isReady('b')).toBe(true);
  });

  it('a retry without a stored grant asks the relay for one', async () => {
    const relay = MemoryRelay.pair('right', 'wrong');
    await relay.start();
    const effects = await relay.a.retry('right');
    expect(effects).toEqual([{ type: 'request-handshake' }]);
  });

  it('a later grant supersedes an earlier one, with fresh ephemerals', async () => {
    const relay = MemoryRelay.pair('pass phrase');
    await relay.a.start('initiator');
    await relay.b.start('responder');
    relay.grantBoth();
    relay.grantBoth();
    await relay.run();
    expect(relay.isReady('a') && relay.isReady('b')).toBe(true);
    const hellos = relay.sent.a.map(decodeFrame).filter((f) => f.type === 'hello');
    expect(hellos.map((h) => h.attempt)).toEqual([1, 2]);
    expect(relay.sent.a.map(decodeFrame).filter((f) => f.type === 'cpace-a')).toHaveLength(1);
    await relay.send('a', 'after two grants');
    expect(relay.of('b', 'message').map((m) => m.text)).toEqual(['after two grants']);
  });

  it.each([
    ['a stale attempt', -1],
    ['an attempt not granted yet', 7],
  ])('ignores handshake frames of %s', async (_name, offset) => {
    const relay = MemoryRelay.pair('pass phrase');
    relay.tap = (from, frame) => {
      const decoded = decodeFrame(frame);
      if (decoded.type === 'message' || decoded.type === 'data' || decoded.type === 'abort') return frame;
      return encodeFrame({ ...decoded, attempt: decoded.attempt + offset } as ModernFrame);
    };
    await relay.start();
    expect(typesOf(relay.effects.a)).toEqual(['request-handshake', 'transmit hello']);
    expect(typesOf(relay.effects.b)).toEqual(['transmit hello']);
  });

  it('a hello while ready means the partner restarted: keys are erased, the next grant reconnects', async () => {
    const relay = await readyPair();
    const hello = encodeFrame({ type: 'hello', attempt: 9, nonce: new Uint8Array(16) });
    expect(await relay.b.receive(hello)).toEqual([]);
    await expect(relay.b.send('x')).rejects.toSatisfy((e) => isDuetError(e, 'no-partner'));
    relay.grantBoth();
    await relay.run();
    await relay.send('b', 'again');
    expect(relay.of('a', 'message').map((m) => m.text)).toEqual(['again']);
  });

  it('reset forgets the session but keeps the passphrase', async () => {
    const relay = await readyPair();
    relay.a.reset();
    relay.b.reset();
    await expect(relay.a.send('x')).rejects.toSatisfy((e) => isDuetError(e, 'no-partner'));
    await relay.start();
    await relay.send('a', 'back');
    expect(relay.of('b', 'message').map((m) => m.text)).toEqual(['back']);
  });

  it('a confirmation tag altered in flight fails both sides within one round trip', async () => {
    const relay = MemoryRelay.pair('pass phrase');
    relay.tap = (from, frame) => (decodeFrame(frame).type === 'confirm' ? flipBit(frame, 100) : frame);
    await relay.start();
    expect(failures(relay, 'b')).toEqual(['passphrase-mismatch']);
    expect(failures(relay, 'a')).toEqual(['passphrase-mismatch']);
    await expect(relay.a.send('x')).rejects.toSatisfy((e) => isDuetError(e, 'no-partner'));
  });

  it('an invalid or neutral point fails with bad-point, and the partner learns handshake-failed', async () => {
    for (const share of [new Uint8Array(32), new Uint8Array(32).fill(0xff)]) {
      const relay = MemoryRelay.pair('pass phrase');
      relay.tap = (from, frame) => {
        const decoded = decodeFrame(frame);
        return decoded.type === 'cpace-a' ? encodeFrame({ ...decoded, share }) : frame;
      };
      await relay.start();
      expect(failures(relay, 'b')).toEqual(['bad-point']);
      expect(failures(relay, 'a')).toEqual(['handshake-failed']);
    }
  });

  it('no transcript or message frame contains the passphrase bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', minLength: 8, maxLength: 40 }), async (passphrase) => {
        const relay = MemoryRelay.pair(passphrase);
        await relay.start();
        await relay.send('a', passphrase);
        await relay.send('b', passphrase);
        const needles = [toHex(utf8Encode(passphrase)), toHex(utf8Encode(passphrase.normalize('NFKC')))];
        for (const frame of [...relay.sent.a, ...relay.sent.b]) {
          for (const needle of needles) expect(toHex(frame)).not.toContain(needle);
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe('modern channel: attempts and failures', () => {
  it('a grant that arrives before start is kept and used on start', async () => {
    const relay = MemoryRelay.pair('pass phrase');
    relay.grantBoth();
    await relay.run(); // both store the grant: nobody has started
    expect(relay.sent.a).toEqual([]);
    await relay.start();
    expect(relay.attempt).toBe(1); // the initiator used the stored grant instead of asking
    expect(relay.isReady('a') && relay.isReady('b')).toBe(true);
  });

  it('a failure sticks to the passphrase: after reset, start reports it until retry', async () => {
    const relay = MemoryRelay.pair('right', 'wrong');
    await relay.start();
    relay.a.reset();
    relay.b.reset();
    expect(await relay.a.start('initiator')).toEqual([{ type: 'failed', code: 'passphrase-mismatch' }]);
    expect(await relay.b.start('responder')).toEqual([{ type: 'failed', code: 'passphrase-mismatch' }]);
    relay.grantBoth(); // a relay granting on its own gets no new guess
    await relay.run();
    expect(relay.sent.a.map(decodeFrame).filter((f) => 'attempt' in f && f.attempt === 2)).toEqual([]);
    await relay.retry('b', 'right');
    await relay.retry('a', 'right');
    expect(relay.isReady('a') && relay.isReady('b')).toBe(true);
  });

  it('a responder whose tag went out but never saw a confirm counts the attempt as failed', async () => {
    const relay = MemoryRelay.pair('pass phrase');
    relay.tap = (from, frame) => (decodeFrame(frame).type === 'confirm' ? undefined : frame);
    await relay.start();
    expect(relay.isReady('b')).toBe(false);
    relay.grantBoth();
    await relay.run();
    expect(failures(relay, 'b')).toEqual(['handshake-failed']);
    expect(relay.sent.b.map(decodeFrame).filter((f) => f.type === 'hello')).toHaveLength(1);
    relay.tap = undefined;
    await relay.retry('b', 'pass phrase'); // b uses the stored grant 2; a is waiting in it
    expect(relay.isReady('a') && relay.isReady('b')).toBe(true);
  });

  it('an abort after the partner proved its keys is refused', async () => {
    const relay = await readyPair();
    await relay.send('b', 'proof');
    const abort = encodeFrame({ type: 'abort', attempt: 1, reason: 'passphrase-mismatch' });
    expect(await relay.a.receive(abort)).toEqual([{ type: 'warning', code: 'bad-frame' }]);
    expect(await relay.b.receive(abort)).toEqual([{ type: 'warning', code: 'bad-frame' }]);
    await relay.send('a', 'still fine');
    expect(relay.of('b', 'message').map((m) => m.text)).toEqual(['still fine']);
  });

  it('refuses to send while the handshake runs', async () => {
    const relay = MemoryRelay.pair('pass phrase');
    await relay.a.start('initiator');
    await expect(relay.a.send('early')).rejects.toSatisfy((e) => isDuetError(e, 'no-partner'));
  });
});

describe('modern channel: its clock', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('without a clock passed in, it keeps time by performance.now: a skipped key expires on it', async () => {
    let at = 1_000;
    vi.spyOn(performance, 'now').mockImplementation(() => at);
    const relay = await readyPair();
    const late = frameOf(await relay.a.send('late'));
    const early = frameOf(await relay.a.send('on time'));
    expect(await relay.inject('b', early)).toEqual([{ type: 'message', text: 'on time' }]);
    at += SKIPPED_KEY_TTL_MS - 1; // the key skipped for `late` is still kept
    expect(await relay.b.receive(late)).toEqual([{ type: 'message', text: 'late' }]);
    const later = frameOf(await relay.a.send('later'));
    const lost = frameOf(await relay.a.send('lost'));
    expect(await relay.inject('b', lost)).toEqual([{ type: 'message', text: 'lost' }]);
    at += SKIPPED_KEY_TTL_MS; // and now the one skipped for `later` is gone
    expect((await relay.b.receive(later)).map((e) => e.type)).toEqual(['warning']);
  });
});

describe('modern channel: messages', () => {
  it('any message round-trips in both directions', async () => {
    const relay = await readyPair();
    const texts: Record<'a' | 'b', string[]> = { a: [], b: [] };
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme', maxLength: 300 })),
        fc.constantFrom('a' as const, 'b' as const),
        async (text, from) => {
          await relay.send(from, text);
          texts[from].push(text);
          expect(relay.of(from === 'a' ? 'b' : 'a', 'message').map((m) => m.text)).toEqual(texts[from]);
        },
      ),
      { numRuns: 100 },
    );
    expect(relay.of('a', 'warning')).toEqual([]);
    expect(relay.of('b', 'warning')).toEqual([]);
  });

  it('a single bit flip anywhere in a message frame is refused (bad-frame in the version and suite bytes, else tampered) and the genuine frame still arrives', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 80 }),
        fc.integer({ min: 0, max: 2 }),
        fc.oneof(fc.integer({ min: 0, max: 47 }), fc.nat()),
        async (text, warmUps, bitSeed) => {
          const relay = await readyPair();
          for (let i = 0; i < warmUps; i++) await relay.send('a', `warm-up ${i}`);
          const frame = frameOf(await relay.a.send(text));
          const bit = bitSeed % (frame.length * 8);
          // The version, suite and type bytes make it no message frame at all, except 0x10 → 0x11:
          // a data frame, whose MAC (the type is in the header) refuses it like any other bit.
          const altered = flipBit(frame, bit);
          const expected = bit < 24 && altered[2] !== 0x11 ? 'bad-frame' : 'tampered';
          expect(await relay.b.receive(altered)).toEqual([{ type: 'warning', code: expected }]);
          expect(await relay.b.receive(frame)).toEqual([{ type: 'message', text }]);
        },
      ),
      // Always: the last bit of the type bytes and the first bit after them.
      {
        ...RUNS,
        examples: [
          ['edge', 0, 23],
          ['edge', 1, 24],
        ],
      },
    );
  });

  it('any replayed message frame is refused as replayed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string(), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        async (texts, pick) => {
          const relay = await readyPair();
          const frames: Uint8Array[] = [];
          for (const text of texts) {
            const frame = frameOf(await relay.a.send(text));
            frames.push(frame);
            expect(await relay.b.receive(frame)).toEqual([{ type: 'message', text }]);
          }
          const replay = frames[pick % frames.length] ?? new Uint8Array();
          expect(await relay.b.receive(replay)).toEqual([{ type: 'warning', code: 'replayed' }]);
          await relay.send('a', 'still here');
          expect(relay.of('b', 'message').map((m) => m.text)).toEqual(['still here']);
        },
      ),
      RUNS,
    );
  });

  it('skips forward over frames the relay dropped; a forged far-ahead frame is refused', async () => {
    const relay = await readyPair();
    await relay.a.send('dropped');
    await relay.a.send('dropped too');
    const arrives = frameOf(await relay.a.send('arrives'));
    expect(await relay.b.receive(arrives)).toEqual([{ type: 'message', text: 'arrives' }]);
    const decoded = decodeFrame(arrives);
    if (decoded.type !== 'message') throw new Error('expected a message frame');
    const far = encodeFrame({ ...decoded, n: decoded.n + MAX_SKIP });
    expect(await relay.b.receive(far)).toEqual([{ type: 'warning', code: 'tampered' }]);
    await relay.send('a', 'next');
    expect(relay.of('b', 'message').map((m) => m.text)).toEqual(['next']);
  });

  it('pads to buckets: the frame length reveals only the bucket', async () => {
    const relay = await readyPair();
    const lengths = [];
    for (const text of ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(5000)]) {
      lengths.push(frameOf(await relay.a.send(text)).length);
    }
    const overhead = 43 + 16 + 16; // header, AEAD tag, frame MAC
    expect(lengths).toEqual([32, 32, 32, 64, 8192].map((bucket) => overhead + bucket));
  });

  it('refuses to send too much text, ill-formed text, or before the handshake', async () => {
    const relay = await readyPair();
    await expect(relay.a.send('x'.repeat(16 * 1024 + 1))).rejects.toSatisfy((e) =>
      isDuetError(e, 'bad-input'),
    );
    await expect(relay.a.send('x'.repeat(16 * 1024))).resolves.toHaveLength(1);
    await expect(relay.a.send('lone \ud800')).rejects.toSatisfy((e) => isDuetError(e, 'bad-input'));
    const fresh = createModernChannel({ passphrase: 'p', room: 'room-a' });
    await expect(fresh.send('hi')).rejects.toSatisfy((e) => isDuetError(e, 'no-partner'));
  });

  it('checks its options', () => {
    expect(() => createModernChannel({ passphrase: '', room: 'room-a' })).toThrow(
      expect.objectContaining({ code: 'bad-input' }),
    );
    expect(() => createModernChannel({ passphrase: 'p', room: 'Not A Room' })).toThrow(
      expect.objectContaining({ code: 'bad-input' }),
    );
  });

  it('receive never throws, whatever the bytes, in any state', async () => {
    const relay = await readyPair();
    const fresh = createModernChannel({ passphrase: 'p', room: 'room-a' });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        for (const channel of [relay.b, fresh]) {
          const effects = await channel.receive(bytes);
          for (const effect of effects) expect(['warning', 'failed']).toContain(effect.type);
        }
      }),
      { numRuns: 200 },
    );
  });
  it('a failure that is not the frame’s (X25519 refusing to run) is a warning, not a throw; the frame opens once it works', async () => {
    const real = nobleX25519(randomBytes);
    let failure: Error | undefined;
    const flaky: X25519 = {
      ...real,
      sharedSecret: (own, theirs) => (failure ? Promise.reject(failure) : real.sharedSecret(own, theirs)),
    };
    const relay = new MemoryRelay(
      createModernChannel({ passphrase: 'p', room: 'test-room', x25519: flaky }),
      createModernChannel({ passphrase: 'p', room: 'test-room' }),
    );
    await relay.start();
    expect(relay.isReady('a') && relay.isReady('b')).toBe(true);
    const frame = frameOf(await relay.b.send('b first: a DH step for a')); // not queued
    failure = new Error('X25519 unavailable');
    expect(await relay.a.receive(frame)).toEqual([{ type: 'warning', code: 'bad-frame' }]);
    failure = duetError('bad-input', 'not a key of this X25519');
    expect(await relay.a.receive(frame)).toEqual([{ type: 'warning', code: 'bad-input' }]);
    failure = undefined;
    expect(await relay.a.receive(frame)).toEqual([{ type: 'message', text: 'b first: a DH step for a' }]);
  });
});

describe('modern channel: states', () => {
  it('a message frame before the keys exist is dropped without a word', async () => {
    const relay = await readyPair();
    const frame = frameOf(await relay.a.send('too early for a fresh channel'));
    const fresh = createModernChannel({ passphrase: 'p', room: 'room-a' });
    await fresh.start('responder');
    expect(await fresh.receive(frame)).toEqual([]);
  });

  it('garbage is bad-frame while the channel works, and absorbed once it failed', async () => {
    const relay = MemoryRelay.pair('right', 'wrong');
    await relay.start();
    expect(await relay.a.receive(Uint8Array.of(9, 9, 9))).toEqual([]);
    const fresh = createModernChannel({ passphrase: 'p', room: 'room-a' });
    expect(await fresh.receive(Uint8Array.of(9, 9, 9))).toEqual([{ type: 'warning', code: 'bad-frame' }]);
  });

  it('only an authentic message proves the partner keys: after a forged one an abort still counts', async () => {
    const relay = await readyPair();
    const forged = encodeFrame({
      type: 'message',
      dh: new Uint8Array(32).fill(9),
      pn: 0,
      n: 0,
      ciphertext: new Uint8Array(48),
      mac: new Uint8Array(16),
    });
    expect(await relay.a.receive(forged)).toEqual([{ type: 'warning', code: 'tampered' }]);
    const abort = encodeFrame({ type: 'abort', attempt: 1, reason: 'passphrase-mismatch' });
    expect(await relay.a.receive(abort)).toEqual([{ type: 'failed', code: 'passphrase-mismatch' }]);
  });

  it('an authentic frame out of reach (it opens nothing) proves no keys either: an abort still counts', async () => {
    const relay = await readyPair();
    let last: Uint8Array | undefined;
    for (let i = 0; i <= MAX_SKIP + 1; i++) last = frameOf(await relay.b.send(`lost ${i}`)); // not queued
    expect(await relay.a.receive(last!)).toEqual([]); // its chain moves on, nothing opens
    const abort = encodeFrame({ type: 'abort', attempt: 1, reason: 'passphrase-mismatch' });
    expect(await relay.a.receive(abort)).toEqual([{ type: 'failed', code: 'passphrase-mismatch' }]);
  });

  it('retry erases the session’s keys first, even when it refuses the new passphrase', async () => {
    const relay = await readyPair();
    await expect(relay.a.retry('')).rejects.toMatchObject({ code: 'bad-input' });
    await expect(relay.a.send('after the retry')).rejects.toMatchObject({ code: 'no-partner' });
  });

  it('reset forgets the attempts too: a relay that starts counting again is followed', async () => {
    const relay = await readyPair();
    relay.a.reset();
    relay.b.reset();
    relay.attempt = 0; // a new relay process counts from 1 again
    await relay.start();
    expect(relay.attempt).toBe(1);
    expect(relay.isReady('a') && relay.isReady('b')).toBe(true);
    await relay.send('b', 'same attempt number, new session');
    expect(relay.of('a', 'message').map((m) => m.text)).toEqual(['same attempt number, new session']);
  });
});

describe('modern channel: binary payloads (file transfer)', () => {
  it('any payload up to maxDataBytes round-trips as a data effect, interleaved with texts', async () => {
    const relay = await readyPair();
    expect(relay.a.maxDataBytes).toBe(MAX_DATA_BYTES);
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.string({ maxLength: 20 }),
        async (bytes, text) => {
          const before = relay.of('b', 'data').length;
          await relay.send('a', text);
          const frame = frameOf(await relay.a.send(bytes));
          expect(decodeFrame(frame).type).toBe('data');
          expect(await relay.b.receive(frame)).toEqual([{ type: 'data', bytes }]);
          expect(relay.of('b', 'data')).toHaveLength(before);
        },
      ),
      { numRuns: 50 },
    );
    const largest = new Uint8Array(MAX_DATA_BYTES).fill(7);
    const frame = frameOf(await relay.a.send(largest));
    expect(frame.length).toBe(MAX_FRAME_BYTES);
    expect(await relay.b.receive(frame)).toEqual([{ type: 'data', bytes: largest }]);
  });

  it('a data payload proves the partner holds the keys, like a message: an abort after it is refused', async () => {
    const relay = await readyPair();
    const frame = frameOf(await relay.b.send(Uint8Array.of(1, 2, 3)));
    expect(await relay.a.receive(frame)).toEqual([{ type: 'data', bytes: Uint8Array.of(1, 2, 3) }]);
    const abort = encodeFrame({ type: 'abort', attempt: 1, reason: 'passphrase-mismatch' });
    expect(await relay.a.receive(abort)).toEqual([{ type: 'warning', code: 'bad-frame' }]);
  });

  it('refuses a payload above maxDataBytes as bad-input', async () => {
    const relay = await readyPair();
    await expect(relay.a.send(new Uint8Array(MAX_DATA_BYTES + 1))).rejects.toSatisfy((e) =>
      isDuetError(e, 'bad-input'),
    );
  });

  it('a data frame cannot pass for a text, nor a text for data: the type is authenticated', async () => {
    const relay = await readyPair();
    const data = frameOf(await relay.a.send(utf8Encode('m:0000000000000000:1:hi')));
    const asMessage = data.slice();
    asMessage[2] = 0x10;
    expect(await relay.b.receive(asMessage)).toEqual([{ type: 'warning', code: 'tampered' }]);
    const text = frameOf(await relay.a.send('hello'));
    const asData = text.slice();
    asData[2] = 0x11;
    expect(await relay.b.receive(asData)).toEqual([{ type: 'warning', code: 'tampered' }]);
    // Neither forgery moved the receiving chain: the genuine frames still open.
    expect(await relay.b.receive(data)).toEqual([
      { type: 'data', bytes: utf8Encode('m:0000000000000000:1:hi') },
    ]);
    expect(await relay.b.receive(text)).toEqual([{ type: 'message', text: 'hello' }]);
  });

  it('a single bit flip anywhere in a data frame is refused and no data comes out', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 5000 }), fc.nat(), async (bytes, bitSeed) => {
        const relay = await readyPair();
        const frame = frameOf(await relay.a.send(bytes));
        const altered = await relay.b.receive(flipBit(frame, bitSeed % (frame.length * 8)));
        expect(altered).toHaveLength(1);
        expect(['tampered', 'bad-frame', 'replayed']).toContain(
          altered[0]?.type === 'warning' && altered[0].code,
        );
        expect(await relay.b.receive(frame)).toEqual([{ type: 'data', bytes }]);
      }),
      RUNS,
    );
  });
});
