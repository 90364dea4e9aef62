/**
 * Test helper: two Double Ratchets on the session keys both sides derive from one fixed ISK, with
 * @noble/curves X25519 fed by a seeded generator, so that every byte is reproducible.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, utf8Encode } from '../src/bytes.ts';
import { decodeFrame, type MessageFrame } from '../src/crypto/modern-frame.ts';
import { deriveSessionKeys } from '../src/crypto/modern-keys.ts';
import { nobleX25519, type X25519 } from '../src/crypto/x25519.ts';
import type { ChannelEffect } from '../src/session/channel.ts';
import { createDoubleRatchet, type DoubleRatchet } from '../src/session/double-ratchet.ts';

export const ISK = fromHex('b69effbf61b51d56401c0f65601abe428de8206feaaf0e32198896dcae7b35cd'.repeat(2));
export const SID = fromHex('00112233445566778899aabbccddeeff');

/** A deterministic stream of bytes: SHA-256(seed ‖ counter) blocks. Tests only. */
export function seededRandom(seed: string): (length: number) => Uint8Array {
  let counter = 0;
  return (length) => {
    const out = new Uint8Array(length);
    for (let at = 0; at < length; at += 32) {
      const block = sha256(concatBytes(utf8Encode(seed), Uint8Array.of(counter >> 8, counter & 0xff)));
      counter += 1;
      out.set(block.subarray(0, Math.min(32, length - at)), at);
    }
    return out;
  };
}

export interface RatchetPair {
  /** The initiator. */
  a: DoubleRatchet;
  /** The responder. */
  b: DoubleRatchet;
  x25519: { a: X25519; b: X25519 };
}

export async function ratchetPair(seed = 'ratchet-pair'): Promise<RatchetPair> {
  const x25519 = { a: nobleX25519(seededRandom(`${seed}/a`)), b: nobleX25519(seededRandom(`${seed}/b`)) };
  return {
    a: await createDoubleRatchet(deriveSessionKeys(ISK, SID, 'initiator'), x25519.a),
    b: await createDoubleRatchet(deriveSessionKeys(ISK, SID, 'responder'), x25519.b),
    x25519,
  };
}

export function messageFrame(bytes: Uint8Array): MessageFrame {
  const frame = decodeFrame(bytes);
  if (frame.type !== 'message') throw new Error('expected a message frame');
  return frame;
}

/** The text of a single `message` effect, or the code of a single `warning`. */
export function outcome(effects: ChannelEffect[]): string {
  if (effects.length !== 1) return `${effects.length} effects`;
  const [effect] = effects;
  if (effect?.type === 'message') return `message ${effect.text}`;
  if (effect?.type === 'warning') return effect.code;
  return effect?.type ?? 'none';
}
