/**
 * CPace over ristretto255 with SHA-512 (draft-irtf-cfrg-cpace-21, "CPACE-RISTR255-SHA512").
 *
 * Protocol code only: the group comes from @noble/curves (RFC 9496 ristretto255), the hash from
 * @noble/hashes. Section numbers below are those of draft-21. Tested byte for byte against the
 * draft's vectors (appendix B.3) in test/cpace.test.ts.
 *
 * The functions are pure and synchronous; randomness is passed in. Callers must use ISK (or what
 * derives from it) and wipe K as soon as ISK is computed: K must never be exposed (§10.3).
 */
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8Encode } from '../bytes.ts';
import { duetError } from '../errors.ts';

const Point = ristretto255.Point;
const ORDER = Point.Fn.ORDER;

/** G.DSI for ristretto255 (§8.3). */
export const CPACE_DSI = utf8Encode('CPaceRistretto255');
/** G.DSI_ISK = DSI ‖ "_ISK" (§7.2). */
export const CPACE_DSI_ISK = utf8Encode('CPaceRistretto255_ISK');
/** H.s_in_bytes: the SHA-512 input block size (§6.2). */
export const SHA512_S_IN_BYTES = 128;
/** Encoded points and scalars are 32 bytes. */
export const CPACE_POINT_BYTES = 32;
export const CPACE_SCALAR_BYTES = 32;

/** prepend_len (appendix A.1.1): the LEB128 encoding of the length, then the data. */
export function prependLen(data: Uint8Array): Uint8Array {
  const prefix: number[] = [];
  let length = data.length;
  do {
    const low = length & 0x7f;
    length = Math.floor(length / 128);
    prefix.push(length > 0 ? low | 0x80 : low); // the high bit: more bytes follow
  } while (length > 0);
  return concatBytes(Uint8Array.from(prefix), data);
}

/** lv_cat (appendix A.1.3): every argument with its length prepended, concatenated. */
export function lvCat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(...parts.map(prependLen));
}

/**
 * generator_string (appendix A.2): lv_cat(DSI, PRS, zero padding, CI, sid), where the zero
 * padding fills the first hash block after DSI and PRS.
 */
export function generatorString(
  dsi: Uint8Array,
  prs: Uint8Array,
  ci: Uint8Array,
  sid: Uint8Array,
  sInBytes: number = SHA512_S_IN_BYTES,
): Uint8Array {
  const zpad = Math.max(0, sInBytes - 1 - prependLen(prs).length - prependLen(dsi).length);
  return lvCat(dsi, prs, new Uint8Array(zpad), ci, sid);
}

/**
 * G.calculate_generator for ristretto255 (§8.3): SHA-512 of the generator string (64 bytes), then
 * the RFC 9496 §4.3.4 one-way map ("element derivation"). Returns the encoded generator g.
 */
export function calculateGenerator(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  const point = ristretto255_hasher.deriveToCurve?.(sha512(generatorString(CPACE_DSI, prs, ci, sid)));
  if (point === undefined) throw duetError('bad-input', 'the ristretto255 one-way map is unavailable');
  return point.toBytes();
}

/**
 * G.sample_scalar (§8.3, §10.7): 64 uniform bytes reduced modulo the group order, never 0.
 * Returns the scalar as 32 little-endian bytes, the draft's encoding of ya and yb.
 */
export function sampleScalar(random: (length: number) => Uint8Array): Uint8Array {
  for (;;) {
    const wide = random(64);
    if (!(wide instanceof Uint8Array) || wide.length !== 64) {
      throw duetError('bad-input', 'random must return the requested number of bytes');
    }
    const scalar = bytesToNumberLE(wide) % ORDER;
    wide.fill(0);
    if (scalar !== 0n) return numberToBytesLE(scalar, CPACE_SCALAR_BYTES);
  }
}

/** G.scalar_mult (§8.3): y·g, encoded. This is the message Ya or Yb. */
export function scalarMult(scalar: Uint8Array, point: Uint8Array): Uint8Array {
  return decodePoint(point).multiply(decodeScalar(scalar)).toBytes();
}

/**
 * G.scalar_mult_vfy (§8.3): y·X for a received X. Throws DuetError('bad-point') if X is not a
 * canonical ristretto255 encoding or if the result is the neutral element G.I (§7.2, §9).
 */
export function scalarMultVfy(scalar: Uint8Array, point: Uint8Array): Uint8Array {
  const product = decodePoint(point).multiply(decodeScalar(scalar));
  if (product.is0()) throw duetError('bad-point', 'the shared point is the neutral element');
  return product.toBytes();
}

/** transcript_ir (appendix A.3.4): lv_cat(Ya, ADa) ‖ lv_cat(Yb, ADb). */
export function transcriptIr(ya: Uint8Array, ada: Uint8Array, yb: Uint8Array, adb: Uint8Array): Uint8Array {
  return concatBytes(lvCat(ya, ada), lvCat(yb, adb));
}

/** transcript_oc (appendix A.3.6): the two lv_cat blocks in ordered concatenation (A.3.2). */
export function transcriptOc(ya: Uint8Array, ada: Uint8Array, yb: Uint8Array, adb: Uint8Array): Uint8Array {
  const a = lvCat(ya, ada);
  const b = lvCat(yb, adb);
  const [first, second] = lexicographicallyLarger(a, b) ? [a, b] : [b, a];
  return concatBytes(utf8Encode('oc'), first, second);
}

/** ISK = H.hash(lv_cat(G.DSI_ISK, sid, K) ‖ transcript) (§7.2). */
export function deriveIsk(sid: Uint8Array, k: Uint8Array, transcript: Uint8Array): Uint8Array {
  return sha512(concatBytes(lvCat(CPACE_DSI_ISK, sid, k), transcript));
}

/** The optional session id output H.hash("CPaceSidOutput" ‖ transcript) (§10.6). */
export function sidOutput(transcript: Uint8Array): Uint8Array {
  return sha512(concatBytes(utf8Encode('CPaceSidOutput'), transcript));
}

/** The key confirmation key of §10.4: mac_key = H.hash("CPaceMac" ‖ sid ‖ ISK). */
export function confirmationKey(sid: Uint8Array, isk: Uint8Array): Uint8Array {
  return sha512(concatBytes(utf8Encode('CPaceMac'), sid, isk));
}

/**
 * A key confirmation tag of §10.4: HMAC-SHA-512(mac_key, lv_cat(Y, AD)) over the message the
 * tagging party sent. Ta covers (Ya, ADa), Tb covers (Yb, ADb).
 */
export function confirmationTag(macKey: Uint8Array, share: Uint8Array, ad: Uint8Array): Uint8Array {
  return hmac(sha512, macKey, lvCat(share, ad));
}

/**
 * lexiographically_larger (appendix A.3.2): true if `a` sorts after `b`, byte by byte, where a
 * prefix sorts first. Written as the draft's pseudo-code: the loop runs over the bytes the two
 * have in common (subarray stops at the end of `a`), then the longer one is larger.
 */
export function lexicographicallyLarger(a: Uint8Array, b: Uint8Array): boolean {
  for (const [i, x] of a.subarray(0, b.length).entries()) {
    const y = b[i] ?? 0;
    if (x > y) return true;
    if (x < y) return false;
  }
  return a.length > b.length;
}

function decodePoint(bytes: Uint8Array): InstanceType<typeof Point> {
  if (!(bytes instanceof Uint8Array) || bytes.length !== CPACE_POINT_BYTES) {
    throw duetError('bad-point', `point must be ${CPACE_POINT_BYTES} bytes`);
  }
  try {
    return Point.fromBytes(bytes);
  } catch (cause) {
    throw duetError('bad-point', 'not a canonical ristretto255 encoding', cause);
  }
}

function decodeScalar(bytes: Uint8Array): bigint {
  if (!(bytes instanceof Uint8Array) || bytes.length !== CPACE_SCALAR_BYTES) {
    throw duetError('bad-input', `scalar must be ${CPACE_SCALAR_BYTES} bytes`);
  }
  const scalar = bytesToNumberLE(bytes);
  if (scalar === 0n || scalar >= ORDER) throw duetError('bad-input', 'scalar must be in [1, order)');
  return scalar;
}
