/**
 * The `modern` suite's key schedule and symmetric ratchet (pure, synchronous, @noble/hashes).
 *
 *   chain_initiator = HKDF-SHA-256(IKM = ISK, salt = sid, info = "duet/chain/initiator", 32)
 *   chain_responder = HKDF-SHA-256(IKM = ISK, salt = sid, info = "duet/chain/responder", 32)
 *
 * Each direction has its own chain. Per message (the KDF chain of the Signal "symmetric-key
 * ratchet"): message_key = HMAC-SHA-256(chain, 0x01), next chain = HMAC-SHA-256(chain, 0x02).
 * The old chain key is erased once the step is committed, so a key taken from memory later
 * cannot decrypt earlier messages (forward secrecy within the session).
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8Encode } from '../bytes.ts';
import { duetError } from '../errors.ts';

export const CHAIN_KEY_BYTES = 32;
const MESSAGE_KEY_INPUT = Uint8Array.of(0x01);
const CHAIN_KEY_INPUT = Uint8Array.of(0x02);

/** The two directions' first chain keys, named by the role that sends on them. */
export interface ChainKeys {
  initiator: Uint8Array;
  responder: Uint8Array;
}

/** HKDF from the CPace ISK, with the session id as salt, to one chain key per direction. */
export function deriveChainKeys(isk: Uint8Array, sid: Uint8Array): ChainKeys {
  if (!(isk instanceof Uint8Array) || isk.length < 32) throw duetError('bad-input', 'ISK must be ≥ 32 bytes');
  if (!(sid instanceof Uint8Array) || sid.length === 0) throw duetError('bad-input', 'sid must not be empty');
  return {
    initiator: hkdf(sha256, isk, sid, utf8Encode('duet/chain/initiator'), CHAIN_KEY_BYTES),
    responder: hkdf(sha256, isk, sid, utf8Encode('duet/chain/responder'), CHAIN_KEY_BYTES),
  };
}

/** The next chain key alone, for steps whose message key is never used (skipped frames). */
export function advanceChain(chain: Uint8Array): Uint8Array {
  checkChain(chain);
  return hmac(sha256, chain, CHAIN_KEY_INPUT);
}

/**
 * One ratchet step. Does not touch `chain`: the caller commits (and wipes the old chain) only
 * once the step is known to be wanted, e.g. after a received frame authenticated.
 */
export function ratchetStep(chain: Uint8Array): { messageKey: Uint8Array; nextChain: Uint8Array } {
  checkChain(chain);
  return {
    messageKey: hmac(sha256, chain, MESSAGE_KEY_INPUT),
    nextChain: hmac(sha256, chain, CHAIN_KEY_INPUT),
  };
}

function checkChain(chain: Uint8Array): void {
  if (!(chain instanceof Uint8Array) || chain.length !== CHAIN_KEY_BYTES) {
    throw duetError('bad-input', `chain key must be ${CHAIN_KEY_BYTES} bytes`);
  }
}
