/**
 * The CPace inputs of the `modern` suite (draft-irtf-cfrg-cpace-21 §4.1): what Duet puts in PRS,
 * CI, sid, ADa and ADb. Pure functions; docs/security.md explains each choice.
 */
import { sha512 } from '@noble/hashes/sha2.js';
import { utf8Encode } from '../bytes.ts';
import { duetError } from '../errors.ts';
import { SUITE_VERSIONS } from '../protocol/control.ts';
import { lvCat } from './cpace.ts';

/** ADa and ADb: public and role-bound, so the two confirmation tags (§10.4) never coincide. */
export const AD_INITIATOR = utf8Encode('duet/ad/initiator');
export const AD_RESPONDER = utf8Encode('duet/ad/responder');
export const SID_BYTES = 16;

/** PRS = UTF-8 of the NFKC-normalised passphrase, so that equivalent spellings match. */
export function passwordRelatedString(passphrase: string): Uint8Array {
  return utf8Encode(passphrase.normalize('NFKC'));
}

/** Throws DuetError('bad-input') for a passphrase that cannot be used (empty after NFKC). */
export function checkPassphrase(passphrase: string): void {
  if (typeof passphrase !== 'string' || passphrase.normalize('NFKC').length === 0) {
    throw duetError('bad-input', 'passphrase must not be empty');
  }
}

/**
 * CI = lv_cat("duet/v2", "modern", room): binds the protocol version, the suite and the room, so
 * a handshake can never be replayed into another room, suite or version (§4.1, §10.1). CI is
 * never sent.
 */
export function channelIdentifier(room: string): Uint8Array {
  return lvCat(utf8Encode(`duet/v${SUITE_VERSIONS.modern}`), utf8Encode('modern'), utf8Encode(room));
}

/**
 * sid = the first 16 bytes of SHA-512(lv_cat("duet/sid", relay nonce, initiator nonce, responder
 * nonce)): fresh per attempt as long as either client is honest, whatever the relay does (§4.1).
 */
export function sessionId(
  relayNonce: Uint8Array,
  initiatorNonce: Uint8Array,
  responderNonce: Uint8Array,
): Uint8Array {
  const input = lvCat(utf8Encode('duet/sid'), relayNonce, initiatorNonce, responderNonce);
  return sha512(input).slice(0, SID_BYTES);
}
