/**
 * No secret left behind (STYLE.md, rule 6: temporaries wiped). The crypto functions are wrapped
 * so that every secret they hand out (PRS, generator, scalar, K, ISK, mac key, the expected tag,
 * chain and message keys, padded plaintexts) is recorded; once the machine is done with it, each
 * must be all zeros. Only the chain keys handed to the ratchet leave the handshake alive.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { randomBytes, toHex } from '../src/bytes.ts';
import { decodeFrame, type HandshakeFrame } from '../src/crypto/modern-frame.ts';
import { createHandshake, type HandshakeStep } from '../src/session/handshake.ts';
import { createRatchet } from '../src/session/ratchet.ts';

const recorded = vi.hoisted(() => [] as { name: string; bytes: Uint8Array }[]);

vi.mock('../src/crypto/cpace.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/crypto/cpace.ts')>();
  const keep =
    <A extends unknown[]>(name: string, fn: (...args: A) => Uint8Array) =>
    (...args: A) => {
      const bytes = fn(...args);
      recorded.push({ name, bytes });
      return bytes;
    };
  return {
    ...real,
    calculateGenerator: keep('generator', real.calculateGenerator),
    sampleScalar: keep('scalar', real.sampleScalar),
    scalarMultVfy: keep('K', real.scalarMultVfy),
    deriveIsk: keep('ISK', real.deriveIsk),
    confirmationKey: keep('mac key', real.confirmationKey),
    confirmationTag: keep('tag', real.confirmationTag),
  };
});

vi.mock('../src/crypto/modern-inputs.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/crypto/modern-inputs.ts')>();
  return {
    ...real,
    passwordRelatedString: (passphrase: string) => {
      const bytes = real.passwordRelatedString(passphrase);
      recorded.push({ name: 'PRS', bytes });
      return bytes;
    },
  };
});

vi.mock('../src/crypto/modern-keys.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/crypto/modern-keys.ts')>();
  return {
    ...real,
    ratchetStep: (chain: Uint8Array) => {
      const step = real.ratchetStep(chain);
      recorded.push(
        { name: 'message key', bytes: step.messageKey },
        { name: 'chain key', bytes: step.nextChain },
      );
      return step;
    },
  };
});

vi.mock('../src/crypto/padding.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/crypto/padding.ts')>();
  return {
    ...real,
    pad: (text: Uint8Array) => {
      const bytes = real.pad(text);
      recorded.push({ name: 'padded plaintext (sent)', bytes });
      return bytes;
    },
  };
});

vi.mock('../src/crypto/aead.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/crypto/aead.ts')>();
  return {
    ...real,
    openOnce: async (...args: Parameters<typeof real.openOnce>) => {
      const bytes = await real.openOnce(...args);
      recorded.push({ name: 'padded plaintext (received)', bytes });
      return bytes;
    },
  };
});

/** The secrets recorded so far that are not all zeros, by name. */
function alive(except: Uint8Array[] = []): string[] {
  return recorded
    .filter(({ bytes }) => !except.includes(bytes) && bytes.some((byte) => byte !== 0))
    .map(({ name }) => name);
}

beforeEach(() => {
  recorded.length = 0;
});

const NONCE = new Uint8Array(16).fill(1);

function sent(step: HandshakeStep): HandshakeFrame {
  const effect = step.effects.find((e) => e.type === 'transmit');
  if (effect?.type !== 'transmit') throw new Error('nothing sent');
  return decodeFrame(effect.frame) as HandshakeFrame;
}

/** Two machines through cpace-b: the responder waits for Ta. */
function upToTag(passA = 'pass phrase', passB = passA) {
  const a = createHandshake({ passphrase: passA, room: 'room-a', random: randomBytes });
  const b = createHandshake({ passphrase: passB, room: 'room-a', random: randomBytes });
  a.start('initiator');
  b.start('responder');
  const helloA = sent(a.grant(1, NONCE));
  const helloB = sent(b.grant(1, NONCE));
  const shareA = sent(a.receive(helloB));
  b.receive(helloA);
  const shareB = sent(b.receive(shareA));
  return { a, b, shareB };
}

describe('secrets are wiped once used', () => {
  it('a confirmed handshake leaves only the chain keys it hands over', () => {
    const { a, b, shareB } = upToTag();
    const initiator = a.receive(shareB);
    const responder = b.receive(sent(initiator));
    expect(responder.effects).toEqual([{ type: 'ready', safetyCode: expect.any(Array) }]);
    const keys = [initiator.keys!, responder.keys!].flatMap((k) => [k.send, k.receive]);
    // Tags in the order made: Tb (sent), the responder's expected Ta (secret until it arrives),
    // the initiator's check of Tb (equal to the public Tb), Ta (sent).
    const tags = recorded.filter((r) => r.name === 'tag').map((r) => r.bytes);
    expect(tags).toHaveLength(4);
    expect(alive([...keys, tags[0]!, tags[2]!, tags[3]!])).toEqual([]);
    expect(recorded.map((r) => r.name).sort()).toEqual(
      [
        ...['PRS', 'generator', 'scalar', 'K', 'ISK', 'mac key'].flatMap((n) => [n, n]),
        'tag',
        'tag',
        'tag',
        'tag',
      ].sort(),
    );
  });

  it('a wrong passphrase: both sides wipe ISK, K, mac key and the expected tag', () => {
    const { a, b, shareB } = upToTag('right', 'wrong');
    const initiator = a.receive(shareB);
    expect(initiator.effects.map((e) => e.type)).toEqual(['transmit', 'failed']);
    b.receive(sent(initiator)); // the abort
    expect(b.phase).toBe('failed');
    const tags = recorded.filter((r) => r.name === 'tag').map((r) => r.bytes);
    expect(tags).toHaveLength(4);
    expect(alive([tags[0]!, tags[2]!, tags[3]!])).toEqual([]);
  });

  it('an attempt abandoned mid-way wipes its scalar', () => {
    const a = createHandshake({ passphrase: 'p', room: 'room-a', random: randomBytes });
    const b = createHandshake({ passphrase: 'p', room: 'room-a', random: randomBytes });
    a.start('initiator');
    b.start('responder');
    a.grant(1, NONCE);
    a.receive(sent(b.grant(1, NONCE)));
    expect(a.phase).toBe('awaitingShare');
    a.reset();
    expect(alive()).toEqual([]);
  });

  it('the ratchet wipes every key and plaintext it made, skipped and forged frames included', async () => {
    const keys = { send: randomBytes(32), receive: randomBytes(32) };
    const peer = { send: keys.receive.slice(), receive: keys.send.slice() };
    const alice = createRatchet(keys);
    const bob = createRatchet(peer);
    const first = await alice.seal('one');
    expect(toHex(keys.send)).toBe('00'.repeat(32)); // the chain key passed in is consumed
    expect(await bob.open(0, first.subarray(11))).toEqual([{ type: 'message', text: 'one' }]);
    await alice.seal('dropped');
    await alice.seal('dropped too');
    const fourth = await alice.seal('after a gap');
    expect(await bob.open(3, new Uint8Array(48))).toEqual([{ type: 'warning', code: 'tampered' }]);
    expect(await bob.open(3, fourth.subarray(11))).toEqual([{ type: 'message', text: 'after a gap' }]);
    const back = await bob.seal('reply');
    expect(await alice.open(0, back.subarray(11))).toEqual([{ type: 'message', text: 'reply' }]);
    expect(toHex(keys.receive)).toBe('00'.repeat(32));
    alice.destroy();
    bob.destroy();
    expect(alive()).toEqual([]);
  });
});
