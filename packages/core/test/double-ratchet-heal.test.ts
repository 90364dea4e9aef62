/**
 * Post-compromise security and forward secrecy of the Double Ratchet, shown on recorded traffic.
 *
 * A thief copies Bob's complete state (every key, the private ratchet key included) in the middle
 * of a conversation. It keeps every frame either side sends. It then tries two ways in:
 * - it runs the protocol itself: a clone of Bob built from the stolen state, fed every frame
 *   Alice sends, as Bob's own page would be;
 * - it tries every key it can derive: every secret in the stolen state and in its clone as the
 *   clone follows the traffic; X25519 of each of those (as a private key, whatever it was) with
 *   every ratchet public key on the wire; a root step (KDF_RK) of every root key the clone held
 *   with each of those DH outputs; every key so found walked forward as a chain key past the
 *   highest message number of the frames tried. Each candidate is tried as the AES-256-GCM key of
 *   each frame, and as its MAC key. (The clone covers following the protocol step by step; the
 *   search covers one step off it, with any key in any role.)
 */
import { createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex } from '../src/bytes.ts';
import { messageHeader, type MessageFrame } from '../src/crypto/modern-frame.ts';
import { chainStep, rootStep } from '../src/crypto/modern-keys.ts';
import { nobleX25519 } from '../src/crypto/x25519.ts';
import {
  restoreDoubleRatchet,
  type DoubleRatchet,
  type RatchetState,
} from '../src/session/double-ratchet.ts';
import { messageFrame, outcome, ratchetPair, seededRandom } from './ratchet-pair.ts';

const NOW = 1_000;

interface Sent {
  from: 'alice' | 'bob';
  frame: MessageFrame;
  text: string;
}

/** Alice (the initiator) and Bob (the responder), and every frame the network carried. */
async function conversation() {
  const { a: alice, b: bob } = await ratchetPair('heal');
  const wire: Sent[] = [];
  const send = async (from: 'alice' | 'bob', text: string): Promise<Sent> => {
    const sent = { from, text, frame: messageFrame(await (from === 'alice' ? alice : bob).seal(text, NOW)) };
    wire.push(sent);
    return sent;
  };
  const deliver = async (sent: Sent): Promise<void> => {
    const to = sent.from === 'alice' ? bob : alice;
    expect(outcome(await to.open(sent.frame, NOW))).toBe(`message ${sent.text}`);
  };
  const exchange = async (from: 'alice' | 'bob', text: string): Promise<Sent> => {
    const sent = await send(from, text);
    await deliver(sent);
    return sent;
  };
  return { alice, bob, wire, send, deliver, exchange };
}

/** Every 32-byte secret anywhere in a state: keys, chain keys, header keys, skipped keys. */
function secretsOf(state: RatchetState): Uint8Array[] {
  const found: Uint8Array[] = [];
  const visit = (value: unknown): void => {
    if (value instanceof Uint8Array) {
      if (value.length === 32) found.push(value);
    } else if (value instanceof Map) {
      for (const item of value.values()) visit(item);
    } else if (Array.isArray(value)) {
      for (const item of value) visit(item);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) if (key !== 'dh' && key !== 'publicKey') visit(item);
    }
  };
  visit(state);
  return found;
}

/**
 * Every key the thief can derive from what it holds and what it saw (see the file comment), with
 * chains walked past the highest message number among `targets`.
 */
function derivableKeys(states: RatchetState[], wire: Sent[], targets: Sent[]): Uint8Array[] {
  const unique = new Map<string, Uint8Array>();
  const add = (key: Uint8Array) => unique.set(toHex(key), key);
  const secrets = states.flatMap(secretsOf);
  secrets.forEach(add);
  const roots = [...new Map(states.map((state) => [toHex(state.root), state.root])).values()];
  const publics = new Map(wire.map(({ frame }) => [toHex(frame.dh), frame.dh]));
  const maxN = Math.max(...targets.map(({ frame }) => frame.n));
  const chains: Uint8Array[] = [...secrets];
  for (const scalar of new Map(secrets.map((s) => [toHex(s), s])).values()) {
    for (const peer of publics.values()) {
      let shared: Uint8Array;
      try {
        shared = x25519.getSharedSecret(scalar, peer);
      } catch {
        continue; // low order: nothing to derive
      }
      add(shared);
      for (const root of roots) {
        const step = rootStep(root, shared);
        [step.root, step.chain, step.nextHeader].forEach(add);
        chains.push(step.chain, step.root, step.nextHeader);
      }
    }
  }
  for (const start of chains) {
    let chain = start;
    for (let n = 0; n <= maxN + 1; n++) {
      const step = chainStep(chain);
      add(step.messageKey);
      add(step.nextChain);
      chain = step.nextChain;
    }
  }
  return [...unique.values()];
}

/** AES-256-GCM of a message frame with `key`, as crypto/aead.ts does it (nonce 0⁴ ‖ n as u64). */
function opensWith(key: Uint8Array, frame: MessageFrame): boolean {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setBigUint64(4, BigInt(frame.n));
  const body = frame.ciphertext;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(messageHeader(frame));
    decipher.setAuthTag(body.subarray(body.length - 16));
    decipher.update(body.subarray(0, body.length - 16));
    decipher.final();
    return true;
  } catch {
    return false;
  }
}

/** The frame MAC (crypto/modern-keys.ts), through node:crypto for speed. */
function macMatches(key: Uint8Array, frame: MessageFrame, bytes: Uint8Array): boolean {
  const mac = createHmac('sha256', key).update(bytes).digest().subarray(0, 16);
  return timingSafeEqual(mac, frame.mac);
}

/** The texts of the frames among `targets` that some key in `keys` decrypts. */
function opened(keys: Uint8Array[], targets: Sent[]): string[] {
  return targets.filter(({ frame }) => keys.some((key) => opensWith(key, frame))).map(({ text }) => text);
}

/** The texts of the frames among `targets` whose MAC some key in `keys` makes. */
function macKnown(keys: Uint8Array[], targets: Sent[]): string[] {
  return targets
    .filter(({ frame }) => {
      const bytes = concatBytes(messageHeader(frame), frame.ciphertext);
      return keys.some((key) => macMatches(key, frame, bytes));
    })
    .map(({ text }) => text);
}

/** The thief's own copy of Bob, run from the stolen state. */
function cloneOf(stolen: RatchetState): DoubleRatchet {
  return restoreDoubleRatchet(structuredClone(stolen), nobleX25519(seededRandom('thief')));
}

/** Feeds the clone every frame Alice sent in `frames`; returns what it read, and its states. */
async function follow(clone: DoubleRatchet, frames: Sent[]) {
  const read: string[] = [];
  const states: RatchetState[] = [clone.snapshot()];
  for (const { from, frame } of frames) {
    if (from !== 'alice') continue;
    const effects = await clone.open(frame, NOW);
    for (const effect of effects) if (effect.type === 'message') read.push(effect.text);
    states.push(clone.snapshot());
  }
  return { read, states };
}

describe('double ratchet: a stolen state', () => {
  it('reads the rest of the current chain, then nothing once a round trip has carried new DH keys', async () => {
    const { bob, wire, send, deliver, exchange } = await conversation();
    await exchange('alice', 'hello');
    await exchange('bob', 'hi');
    await exchange('alice', 'how are you');
    // Bob answers while Alice keeps writing on her chain: Bob holds a private ratchet key whose
    // public half Alice has not seen yet, and Alice's chain goes on.
    await exchange('alice', 'before the theft, 1');
    const bobReply = await send('bob', 'reply in flight');
    await exchange('alice', 'before the theft, 2'); // message n
    const stolen = bob.snapshot();
    expect(stolen.self).toBeDefined();
    const theft = wire.length;

    const sameChain = await exchange('alice', 'n + 1, same chain');
    await deliver(bobReply); // Alice's DH step onto Bob's key, which the thief holds
    const aliceNewKey = await exchange('alice', 'Alice, new key'); // readable: Bob's key is stolen
    const bobNewKey = await exchange('bob', 'Bob, new key'); // the round trip is complete
    const healed: Sent[] = [bobNewKey];
    for (const [from, text] of [
      ['alice', 'after healing 1'],
      ['alice', 'after healing 2'],
      ['bob', 'after healing 3'],
      ['alice', 'after healing 4'],
      ['bob', 'after healing 5'],
      ['bob', 'after healing 6'],
    ] as const) {
      healed.push(await exchange(from, text));
    }

    const { read, states } = await follow(cloneOf(stolen), wire.slice(theft));
    // The sanity check: the next message of the same chain, and the one made with Bob's stolen key.
    expect(read).toEqual([sameChain.text, aliceNewKey.text]);
    const keys = derivableKeys([stolen, ...states], wire, [sameChain, aliceNewKey, ...healed]);
    expect(opened(keys, [sameChain, aliceNewKey])).toEqual([sameChain.text, aliceNewKey.text]);
    // After one round trip with new DH keys: nothing opens, whichever way it was sent.
    expect(opened(keys, healed)).toEqual([]);
    // Header keys are derived one root step ahead (§4), so the thief can still check (not make
    // readable) the MAC of the first chain each way after healing, and of nothing later.
    expect(macKnown(keys, healed)).toEqual(['Bob, new key', 'after healing 1', 'after healing 2']);
  });

  it('opens nothing that was sent before the theft (forward secrecy)', async () => {
    const { bob, wire, exchange } = await conversation();
    for (const [from, text] of [
      ['alice', 'old 1'],
      ['alice', 'old 2'],
      ['bob', 'old 3'],
      ['alice', 'old 4'],
      ['bob', 'old 5'],
      ['bob', 'old 6'],
      ['alice', 'old 7'],
    ] as const) {
      await exchange(from, text);
    }
    const before = [...wire];
    const stolen = bob.snapshot();
    await exchange('alice', 'after the theft');
    const { read, states } = await follow(cloneOf(stolen), before);
    expect(read).toEqual([]);
    expect(opened(derivableKeys([stolen, ...states], wire, before), before)).toEqual([]);
  });

  it('holds the key of a frame still missing at the theft, but only until the key expires', async () => {
    const { alice, bob, deliver, send } = await conversation();
    const missing = await send('alice', 'missing at the theft');
    await deliver(await send('alice', 'delivered'));
    const stolen = bob.snapshot();
    expect(outcome(await cloneOf(stolen).open(missing.frame, NOW))).toBe(`message ${missing.text}`);
    const later = await cloneOf(stolen).open(missing.frame, NOW + 120_000);
    expect(outcome(later)).toBe('replayed');
    expect(alice).toBeDefined();
  });
});
