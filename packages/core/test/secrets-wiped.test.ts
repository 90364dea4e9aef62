/**
 * No secret left behind (STYLE.md, rule 6: temporaries wiped). The crypto functions are wrapped
 * so that every secret they hand out (PRS, generator, scalar, K, ISK, mac key, the expected tag,
 * the Double Ratchet's first secrets and the PRK they come from, root, chain, header and message
 * keys, DH private keys and outputs, padded plaintexts) is recorded; once the machine is done
 * with it, each must be all zeros. Only the session keys handed to the ratchet leave the
 * handshake alive, and a ratchet holds nothing alive that is not in its state (what a thief
 * would copy), until it is destroyed.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { randomBytes, toHex } from '../src/bytes.ts';
import {
  decodeFrame,
  messageHeader,
  type HandshakeFrame,
  type MessageFrame,
} from '../src/crypto/modern-frame.ts';
import { deriveSessionKeys, frameMac, type SessionKeys } from '../src/crypto/modern-keys.ts';
import { nobleX25519, type X25519 } from '../src/crypto/x25519.ts';
import {
  createDoubleRatchet,
  MAX_SKIP,
  MAX_SKIPPED_PER_CHAIN,
  SKIPPED_KEY_TTL_MS,
  type DoubleRatchet,
} from '../src/session/double-ratchet.ts';
import { createHandshake, type HandshakeStep } from '../src/session/handshake.ts';
import { ISK, messageFrame, outcome, SID } from './ratchet-pair.ts';

const recorded = vi.hoisted(() => [] as { name: string; bytes: Uint8Array }[]);
/**
 * Called inside the AEAD and a frame's MAC check (after each computed, before the ratchet has its
 * result) and inside X25519.
 */
const during = vi.hoisted(() => ({
  aead: undefined as (() => void) | undefined,
  mac: undefined as (() => void) | undefined,
  dh: undefined as (() => void) | undefined,
}));

vi.mock('../src/crypto/frame-mac.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/crypto/frame-mac.ts')>();
  return {
    ...real,
    frameMacMatches: async (...args: Parameters<typeof real.frameMacMatches>) => {
      const matches = await real.frameMacMatches(...args);
      during.mac?.();
      return matches;
    },
  };
});

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

// deriveSessionKeys' HKDF-Extract output (its PRK) never leaves the function: record it here.
vi.mock('@noble/hashes/hkdf.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('@noble/hashes/hkdf.js')>();
  return {
    ...real,
    extract: (...args: Parameters<typeof real.extract>) => {
      const bytes = real.extract(...args);
      recorded.push({ name: 'PRK', bytes });
      return bytes;
    },
  };
});

vi.mock('../src/crypto/modern-keys.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/crypto/modern-keys.ts')>();
  return {
    ...real,
    deriveSessionKeys: (...args: Parameters<typeof real.deriveSessionKeys>) => {
      const keys = real.deriveSessionKeys(...args);
      for (const [name, bytes] of Object.entries(keys)) if (name !== 'role') recorded.push({ name, bytes });
      return keys;
    },
    rootStep: (root: Uint8Array, dhOutput: Uint8Array) => {
      const step = real.rootStep(root, dhOutput);
      recorded.push(
        { name: 'root key', bytes: step.root },
        { name: 'chain key (new chain)', bytes: step.chain },
        { name: 'next header key', bytes: step.nextHeader },
      );
      return step;
    },
    chainStep: (chain: Uint8Array) => {
      const step = real.chainStep(chain);
      recorded.push(
        { name: 'message key', bytes: step.messageKey },
        { name: 'chain key', bytes: step.nextChain },
      );
      return step;
    },
    advanceChain: (chain: Uint8Array) => {
      const next = real.advanceChain(chain);
      recorded.push({ name: 'chain key (advanced)', bytes: next });
      return next;
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
      during.aead?.();
      return bytes;
    },
    sealOnce: async (...args: Parameters<typeof real.sealOnce>) => {
      const bytes = await real.sealOnce(...args);
      during.aead?.();
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
  during.aead = during.mac = during.dh = undefined;
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
  it('a confirmed handshake leaves only the session keys it hands over', () => {
    const { a, b, shareB } = upToTag();
    const initiator = a.receive(shareB);
    const responder = b.receive(sent(initiator));
    expect(responder.effects).toEqual([{ type: 'ready', safetyCode: expect.any(Array) }]);
    const keys = [initiator.keys!, responder.keys!].flatMap(secretsOf);
    expect(keys).toHaveLength(12);
    // Tags in the order made: Tb (sent), the responder's expected Ta (secret until it arrives),
    // the initiator's check of Tb (equal to the public Tb), Ta (sent).
    const tags = recorded.filter((r) => r.name === 'tag').map((r) => r.bytes);
    expect(tags).toHaveLength(4);
    expect(alive([...keys, tags[0]!, tags[2]!, tags[3]!])).toEqual([]);
    expect(recorded.map((r) => r.name).sort()).toEqual(
      [
        ...['PRS', 'generator', 'scalar', 'K', 'ISK', 'mac key', 'PRK'].flatMap((n) => [n, n]),
        ...Object.keys(initiator.keys!).flatMap((n) => (n === 'role' ? [] : [n, n])),
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

  it('the Double Ratchet wipes every key, DH secret and plaintext once used: skipped, forged, late and out-of-reach frames, turn changes both ways', async () => {
    const keysA = deriveSessionKeys(ISK, SID, 'initiator');
    const keysB = deriveSessionKeys(ISK, SID, 'responder');
    const a = await createDoubleRatchet(keysA, recordingX25519());
    const b = await createDoubleRatchet(keysB, recordingX25519());
    // The session keys are consumed: taken over by the state or wiped (checked below).
    let now = 0;
    const seal = async (from: typeof a, text: string) => messageFrame(await from.seal(text, now));
    const heldOnlyByState = () => {
      const held = new Set([...hexesIn(a.snapshot()), ...hexesIn(b.snapshot())]);
      return recorded
        .filter(({ bytes }) => bytes.some((byte) => byte !== 0) && !held.has(toHex(bytes)))
        .map(({ name }) => name);
    };

    // The initiator speaks first; one frame is lost, one late, and a forged one comes in between.
    const first = await seal(a, 'one');
    const late = await seal(a, 'late');
    await seal(a, 'lost');
    const fourth = await seal(a, 'after a gap');
    expect(outcome(await b.open(first, now))).toBe('message one');
    expect(outcome(await b.open({ ...fourth, mac: new Uint8Array(16) }, now))).toBe('tampered');
    expect(outcome(await b.open(fourth, now))).toBe('message after a gap');
    expect(heldOnlyByState()).toEqual([]);

    // A turn change each way: the responder's DH step, then the initiator's.
    expect(outcome(await a.open(await seal(b, 'reply'), now))).toBe('message reply');
    expect(outcome(await b.open(await seal(a, 'and back'), now))).toBe('message and back');
    expect(heldOnlyByState()).toEqual([]);

    // The late frame opens from its retired chain's stored key; the lost one's key expires.
    expect(outcome(await b.open(late, now))).toBe('message late');
    now += SKIPPED_KEY_TTL_MS;
    // More than MAX_SKIP frames of one chain lost: the next one moves the chain on, keeping no key.
    for (let i = 0; i <= MAX_SKIP; i++) await a.seal('lost on a bad link', now);
    expect(await b.open(await seal(a, 'out of reach'), now)).toEqual([]);
    expect(outcome(await b.open(await seal(a, 'back in reach'), now))).toBe('message back in reach');
    expect(outcome(await a.open(await seal(b, 'heard you'), now))).toBe('message heard you');
    expect(heldOnlyByState()).toEqual([]);

    a.destroy();
    b.destroy();
    for (const keys of [keysA, keysB]) expect(secretsOf(keys).map(toHex)).toEqual(secretsOf(keys).map(zero));
    expect(alive()).toEqual([]);
    // Everything a session makes was seen: DH private keys and outputs, root and header keys.
    const names = new Set(recorded.map((r) => r.name));
    for (const name of ['DH private key', 'DH output', 'root key', 'next header key', 'chain key (advanced)'])
      expect(names).toContain(name);
  });

  it('the Double Ratchet wipes what it computed for a frame refused after its MAC verified, and what long walks and turns step through', async () => {
    const a = await createDoubleRatchet(deriveSessionKeys(ISK, SID, 'initiator'), recordingX25519());
    const b = await createDoubleRatchet(deriveSessionKeys(ISK, SID, 'responder'), recordingX25519());
    let now = 0;
    const seal = async (from: DoubleRatchet, text: string) => messageFrame(await from.seal(text, now));
    const heldOnlyByState = () => {
      const held = new Set([...hexesIn(a.snapshot()), ...hexesIn(b.snapshot())]);
      return recorded
        .filter(({ bytes }) => bytes.some((byte) => byte !== 0) && !held.has(toHex(bytes)))
        .map(({ name }) => name);
    };

    // A walk across more than MAX_SKIPPED_PER_CHAIN frames: the chain keys it only advances.
    for (let i = 0; i < MAX_SKIPPED_PER_CHAIN + 50; i++) await a.seal('lost', now);
    expect(outcome(await b.open(await seal(a, 'far'), now))).toBe('message far');
    expect(heldOnlyByState()).toEqual([]);

    // Frames whose MAC verifies but whose AEAD fails (made with the header key, as only the
    // partner or a thief could), each after a few lost: on the current chain, then on a new one
    // whose turn also retires a chain with a frame still missing.
    await a.seal('lost', now);
    const current = await seal(a, 'current chain');
    expect(outcome(await b.open(broken(current, b.snapshot().receiving!.headerKey), now))).toBe('tampered');
    expect(heldOnlyByState()).toEqual([]);
    await a.seal('missing when the chain retires', now);
    expect(outcome(await a.open(await seal(b, 'turn'), now))).toBe('message turn');
    await a.seal('lost', now);
    const turn = await seal(a, 'new chain');
    expect(outcome(await b.open(broken(turn, b.snapshot().nextReceivingHeaderKey), now))).toBe('tampered');
    expect(heldOnlyByState()).toEqual([]);

    // The genuine frame: the retired chain's tail is walked (its chain key let go), the new one opens.
    expect(outcome(await b.open(turn, now))).toBe('message new chain');
    expect(heldOnlyByState()).toEqual([]);

    // A new chain whose first frame to arrive is out of reach: its DH step, then MAX_SKIP steps.
    expect(outcome(await a.open(await seal(b, 'turn again'), now))).toBe('message turn again');
    for (let i = 0; i <= MAX_SKIP; i++) await a.seal('lost on a bad link', now);
    now += 5_000; // the skip budget refills
    expect(await b.open(await seal(a, 'out of reach'), now)).toEqual([]);
    expect(heldOnlyByState()).toEqual([]);
  });

  it('a ratchet destroyed while it opens or seals a frame opens nothing, seals nothing and keeps no key', async () => {
    const pair = async () => ({
      a: await createDoubleRatchet(deriveSessionKeys(ISK, SID, 'initiator'), recordingX25519()),
      b: await createDoubleRatchet(deriveSessionKeys(ISK, SID, 'responder'), recordingX25519()),
    });
    const destroyedDuring = async (
      which: 'aead' | 'mac' | 'dh',
      ratchet: DoubleRatchet,
      work: Promise<unknown>,
    ) => {
      during[which] = () => {
        during[which] = undefined;
        ratchet.destroy();
      };
      return work;
    };
    const seal = async (from: DoubleRatchet, text: string) => messageFrame(await from.seal(text, 0));

    // Opening: a frame's MAC check on a new chain and on a known one, a new chain's DH, its first
    // frame's AEAD, the current chain's next frame, a stored key.
    {
      const { a, b } = await pair();
      expect(outcome(await b.open(await seal(a, 'first'), 0))).toBe('message first');
      const reply = await seal(b, 'reply');
      const before = { ...a.work };
      expect(await destroyedDuring('mac', a, a.open(reply, 0))).toEqual([]);
      // Nothing is computed from the erased state: no DH, no chain step, no AEAD after the MAC.
      expect(a.work).toEqual({ ...before, macChecks: before.macChecks + 1 });
      b.destroy();
    }
    {
      const { a, b } = await pair();
      expect(outcome(await b.open(await seal(a, 'first'), 0))).toBe('message first');
      const second = await seal(a, 'second');
      const before = { ...b.work };
      expect(await destroyedDuring('mac', b, b.open(second, 0))).toEqual([]);
      expect(b.work).toEqual({ ...before, macChecks: before.macChecks + 1 });
      a.destroy();
    }
    {
      const { a, b } = await pair();
      expect(outcome(await b.open(await seal(a, 'first'), 0))).toBe('message first');
      const reply = await seal(b, 'reply');
      expect(await destroyedDuring('dh', a, a.open(reply, 0))).toEqual([]);
      b.destroy();
    }
    {
      const { a, b } = await pair();
      expect(outcome(await b.open(await seal(a, 'first'), 0))).toBe('message first');
      const reply = await seal(b, 'reply');
      expect(await destroyedDuring('aead', a, a.open(reply, 0))).toEqual([]);
      b.destroy();
    }
    {
      const { a, b } = await pair();
      const first = await seal(a, 'first');
      expect(await destroyedDuring('aead', b, b.open(first, 0))).toEqual([]);
      a.destroy();
    }
    {
      const { a, b } = await pair();
      expect(outcome(await b.open(await seal(a, 'first'), 0))).toBe('message first');
      const skipped = await seal(a, 'late');
      const next = await seal(a, 'next');
      expect(outcome(await b.open(next, 0))).toBe('message next');
      expect(await destroyedDuring('aead', b, b.open(skipped, 0))).toEqual([]);
      a.destroy();
    }
    {
      const { a, b } = await pair();
      expect(outcome(await b.open(await seal(a, 'first'), 0))).toBe('message first');
      expect(await destroyedDuring('aead', b, b.open(await seal(a, 'second'), 0))).toEqual([]);
      a.destroy();
    }
    // Sealing: the sending half of a DH step, and a frame's AEAD.
    {
      const { a, b } = await pair();
      expect(outcome(await b.open(await seal(a, 'first'), 0))).toBe('message first');
      await expect(destroyedDuring('dh', b, b.seal('reply', 0))).rejects.toMatchObject({
        code: 'no-partner',
      });
      a.destroy();
    }
    {
      const { a, b } = await pair();
      await expect(destroyedDuring('aead', a, a.seal('first', 0))).rejects.toMatchObject({
        code: 'no-partner',
      });
      b.destroy();
    }
    expect(during).toEqual({ aead: undefined, mac: undefined, dh: undefined }); // every hook ran
    expect(alive()).toEqual([]);
  });

  it('a walk across a long gap derives message keys only for the frames it keeps', async () => {
    const a = await createDoubleRatchet(deriveSessionKeys(ISK, SID, 'initiator'), recordingX25519());
    const b = await createDoubleRatchet(deriveSessionKeys(ISK, SID, 'responder'), recordingX25519());
    for (let i = 0; i < MAX_SKIPPED_PER_CHAIN + 50; i++) await a.seal('lost', 0);
    const far = messageFrame(await a.seal('far', 0));
    const from = recorded.length;
    expect(outcome(await b.open(far, 0))).toBe('message far');
    const derived = recorded.slice(from).filter(({ name }) => name === 'message key');
    expect(derived).toHaveLength(MAX_SKIPPED_PER_CHAIN + 1); // the keys kept, and the frame's own
    expect(b.snapshot().skipped.get(toHex(far.dh))?.size).toBe(MAX_SKIPPED_PER_CHAIN);
  });
});

/** `frame` with its ciphertext flipped and its MAC made again under `headerKey`: only the AEAD fails. */
function broken(frame: MessageFrame, headerKey: Uint8Array): MessageFrame {
  const ciphertext = frame.ciphertext.slice();
  ciphertext[0] = (ciphertext[0] ?? 0) ^ 1;
  return { ...frame, ciphertext, mac: frameMac(headerKey, messageHeader(frame), ciphertext) };
}

/** The six secrets of the session keys (all but the role). */
function secretsOf(keys: SessionKeys): Uint8Array[] {
  const { role: _role, ...secrets } = keys;
  return Object.values(secrets);
}

const zero = (bytes: Uint8Array) => '00'.repeat(bytes.length);

/** @noble/curves X25519 whose private keys and DH outputs are recorded. */
function recordingX25519(): X25519 {
  const real = nobleX25519(randomBytes);
  return {
    name: real.name,
    async generate() {
      const pair = await real.generate();
      recorded.push({ name: 'DH private key', bytes: pair.privateKey as Uint8Array });
      during.dh?.();
      return pair;
    },
    async fromSecret(secret) {
      const pair = await real.fromSecret(secret);
      recorded.push({ name: 'DH private key', bytes: pair.privateKey as Uint8Array });
      return pair;
    },
    async sharedSecret(own, theirs) {
      const shared = await real.sharedSecret(own, theirs);
      recorded.push({ name: 'DH output', bytes: shared });
      during.dh?.();
      return shared;
    },
  };
}

/** The hex of every byte array in a value (a ratchet's state). */
function hexesIn(value: unknown, out: string[] = []): string[] {
  if (value instanceof Uint8Array) out.push(toHex(value));
  else if (value instanceof Map) for (const item of value.values()) hexesIn(item, out);
  else if (Array.isArray(value)) for (const item of value) hexesIn(item, out);
  else if (value !== null && typeof value === 'object')
    for (const item of Object.values(value)) hexesIn(item, out);
  return out;
}
