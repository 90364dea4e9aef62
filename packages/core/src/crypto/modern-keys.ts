/**
 * The `modern` suite's key schedule (protocol v2): from the CPace ISK to the Double Ratchet's
 * first state, and the ratchet's KDFs. Pure and synchronous (@noble/hashes). Section numbers are
 * those of "The Double Ratchet Algorithm" (Perrin & Marlinspike, revision 1).
 *
 * From the ISK, once the partner's confirmation tag verified (HKDF-SHA-256, salt = sid, 32 bytes):
 *
 *   root              info "duet/v2/root"                      the first root key (§3.3's SK)
 *   initiatorChain    info "duet/v2/initiator/chain"           the initiator's first sending chain
 *   initiatorHeader   info "duet/v2/initiator/header"          its header key
 *   initiatorNext     info "duet/v2/initiator/next-header"     the initiator's next header key
 *   responderHeader   info "duet/v2/responder/header"          the responder's first header key
 *   initiatorRatchet  info "duet/v2/initiator/ratchet-key"     the initiator's first X25519 key
 *
 * The responder plays §3.3's Alice: it knows the initiator's first ratchet public key in advance
 * (derived here, as Alice knows Bob's prekey) and ratchets on it when it first sends. The
 * initiator plays Bob, and may speak first too: its first sending chain is a shared secret, as
 * §3.3 allows ("Bob's sending chain key and Alice's receiving chain key could be initialized to a
 * shared secret").
 *
 *   KDF_RK(rk, dh)  = HKDF-SHA-256(salt = rk, IKM = dh, info = "duet/v2/ratchet", 96 bytes)
 *                     → root key ‖ chain key ‖ next header key (§5.2, §4.2 KDF_RK_HE)
 *   KDF_CK(ck)      = message key HMAC-SHA-256(ck, 0x01), next chain key HMAC-SHA-256(ck, 0x02)
 *   frame MAC       = HMAC-SHA-256(header key, header ‖ ciphertext: the whole frame before the
 *                     MAC), first 16 bytes
 *
 * Header keys are §4's, used to authenticate rather than encrypt: docs/security.md says why.
 */
import { expand, extract, hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { equalBytes, utf8Encode, wipe } from '../bytes.ts';
import { duetError } from '../errors.ts';
import type { Role } from '../protocol/control.ts';

export const KEY_BYTES = 32;
export const FRAME_MAC_BYTES = 16;
const MESSAGE_KEY_INPUT = Uint8Array.of(0x01);
const CHAIN_KEY_INPUT = Uint8Array.of(0x02);
const RATCHET_INFO = utf8Encode('duet/v2/ratchet');

/** Everything both sides derive from the ISK, and which side this is. */
export interface SessionKeys {
  readonly role: Role;
  readonly root: Uint8Array;
  readonly initiatorChain: Uint8Array;
  readonly initiatorHeader: Uint8Array;
  readonly initiatorNext: Uint8Array;
  readonly responderHeader: Uint8Array;
  /** An X25519 private key: the initiator's first ratchet key, whose public half both need. */
  readonly initiatorRatchet: Uint8Array;
}

/** HKDF from the CPace ISK, with the session id as salt, to the ratchet's first secrets. */
export function deriveSessionKeys(isk: Uint8Array, sid: Uint8Array, role: Role): SessionKeys {
  if (!(isk instanceof Uint8Array) || isk.length < 32) throw duetError('bad-input', 'ISK must be ≥ 32 bytes');
  if (!(sid instanceof Uint8Array) || sid.length === 0) throw duetError('bad-input', 'sid must not be empty');
  const prk = extract(sha256, isk, sid); // HKDF-Extract once; one Expand per label
  const derive = (label: string) => expand(sha256, prk, utf8Encode(`duet/v2/${label}`), KEY_BYTES);
  const keys = {
    role,
    root: derive('root'),
    initiatorChain: derive('initiator/chain'),
    initiatorHeader: derive('initiator/header'),
    initiatorNext: derive('initiator/next-header'),
    responderHeader: derive('responder/header'),
    initiatorRatchet: derive('initiator/ratchet-key'),
  };
  wipe(prk);
  return keys;
}

/** KDF_RK: a DH output mixed into the root key gives a new root, a chain and a next header key. */
export function rootStep(
  root: Uint8Array,
  dhOutput: Uint8Array,
): { root: Uint8Array; chain: Uint8Array; nextHeader: Uint8Array } {
  // Stryker disable next-line StringLiteral: equivalent: the name only goes into the DuetError's message, which tests do not assert (STYLE.md, rule 4)
  checkKey('root key', root);
  // Stryker disable next-line StringLiteral: equivalent: the name only goes into the DuetError's message, which tests do not assert (STYLE.md, rule 4)
  checkKey('DH output', dhOutput);
  const out = hkdf(sha256, dhOutput, root, RATCHET_INFO, 3 * KEY_BYTES);
  return {
    root: out.slice(0, KEY_BYTES),
    chain: out.slice(KEY_BYTES, 2 * KEY_BYTES),
    nextHeader: out.slice(2 * KEY_BYTES),
  };
}

/**
 * KDF_CK: one step of a chain. Does not touch `chain`: the caller commits (and wipes the old
 * chain) only once the step is known to be wanted, e.g. after a received frame authenticated.
 */
export function chainStep(chain: Uint8Array): { messageKey: Uint8Array; nextChain: Uint8Array } {
  // Stryker disable next-line StringLiteral: equivalent: the name only goes into the DuetError's message, which tests do not assert (STYLE.md, rule 4)
  checkKey('chain key', chain);
  return {
    messageKey: hmac(sha256, chain, MESSAGE_KEY_INPUT),
    nextChain: hmac(sha256, chain, CHAIN_KEY_INPUT),
  };
}

/** The next chain key alone, for steps whose message key is not kept (frames given up on). */
export function advanceChain(chain: Uint8Array): Uint8Array {
  // Stryker disable next-line StringLiteral: equivalent: the name only goes into the DuetError's message, which tests do not assert (STYLE.md, rule 4)
  checkKey('chain key', chain);
  return hmac(sha256, chain, CHAIN_KEY_INPUT);
}

/** The MAC that ends every message frame: it covers all the bytes before it, header then ciphertext. */
export function frameMac(headerKey: Uint8Array, header: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  // Stryker disable next-line StringLiteral: equivalent: the name only goes into the DuetError's message, which tests do not assert (STYLE.md, rule 4)
  checkKey('header key', headerKey);
  return hmac.create(sha256, headerKey).update(header).update(ciphertext).digest().slice(0, FRAME_MAC_BYTES);
}

/** Checks a frame MAC in constant time. */
export function frameMacValid(
  headerKey: Uint8Array,
  header: Uint8Array,
  ciphertext: Uint8Array,
  mac: Uint8Array,
): boolean {
  return equalBytes(frameMac(headerKey, header, ciphertext), mac);
}

function checkKey(name: string, key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw duetError('bad-input', `${name} must be ${KEY_BYTES} bytes`);
  }
}
