/**
 * The bulk primitives of a `modern` frame behind one seam: AES-256-GCM under a one-time key
 * (crypto/aead.ts) and HMAC-SHA-256 for the frame MAC of a large frame (crypto/frame-mac.ts).
 *
 * WebCrypto by default, and the only choice in a browser. A Node program may pass Node's own
 * `node:crypto` instead, as the terminal client does (packages/cli/src/node-frame-crypto.ts):
 * the same OpenSSL that backs Node's WebCrypto, called synchronously, without WebCrypto's trip
 * to the thread pool and its copies. That is about a third of the CPU per file chunk
 * (docs/benchmarks.md, workload h). The bytes are the same either way: frame-crypto.test.ts
 * runs every implementation against the same known answers and against each other.
 *
 * The callers check sizes, derive the nonce and wipe their key copies once a call settles; an
 * implementation must not keep the key, and must release no plaintext that failed its tag.
 */
import { concatBytes } from '../bytes.ts';

export interface FrameCrypto {
  /**
   * AES-256-GCM: ciphertext ‖ 16-byte tag, in parts whose concatenation it is (the frame is
   * assembled from them, so an implementation need not join them first).
   */
  seal(
    key: Uint8Array<ArrayBuffer>,
    nonce: Uint8Array<ArrayBuffer>,
    associatedData: Uint8Array,
    plaintext: Uint8Array,
  ): Promise<Uint8Array[]>;
  /**
   * The plaintext of ciphertext ‖ tag, or `undefined` when the tag does not verify (the frame is
   * not authentic). A rejection means the primitive could not run (no WebCrypto, a refused key):
   * the caller must not take that for a forgery, or a working partner's frame would be dropped.
   */
  open(
    key: Uint8Array<ArrayBuffer>,
    nonce: Uint8Array<ArrayBuffer>,
    associatedData: Uint8Array,
    sealed: Uint8Array,
  ): Promise<Uint8Array | undefined>;
  /** HMAC-SHA-256 under `key` of the parts, concatenated: all 32 bytes. */
  hmacSha256(key: Uint8Array<ArrayBuffer>, parts: readonly Uint8Array[]): Promise<Uint8Array>;
}

const subtle = (): SubtleCrypto => globalThis.crypto.subtle;

/** WebCrypto: imports each key non-extractable for its one use. */
export const webCryptoFrames: FrameCrypto = {
  async seal(key, nonce, associatedData, plaintext) {
    const cryptoKey = await subtle().importKey('raw', key, 'AES-GCM', false, ['encrypt']);
    // Stryker disable next-line MethodExpression: equivalent: WebCrypto copies its inputs; slice() only gives TypeScript an ArrayBuffer
    const params = { name: 'AES-GCM', iv: nonce, additionalData: associatedData.slice() };
    // Stryker disable next-line MethodExpression: equivalent: as above
    return [new Uint8Array(await subtle().encrypt(params, cryptoKey, plaintext.slice()))];
  },
  async open(key, nonce, associatedData, sealed) {
    const cryptoKey = await subtle().importKey('raw', key, 'AES-GCM', false, ['decrypt']);
    // Stryker disable next-line MethodExpression: equivalent: WebCrypto copies its inputs; slice() only gives TypeScript an ArrayBuffer
    const params = { name: 'AES-GCM', iv: nonce, additionalData: associatedData.slice() };
    try {
      // Stryker disable next-line MethodExpression: equivalent: as above
      return new Uint8Array(await subtle().decrypt(params, cryptoKey, sealed.slice()));
    } catch (error) {
      // WebCrypto says a tag that fails (or an input shorter than one) with OperationError.
      if (error instanceof DOMException && error.name === 'OperationError') return undefined;
      throw error;
    }
  },
  async hmacSha256(key, parts) {
    const hmacKey = await subtle().importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    return new Uint8Array(await subtle().sign('HMAC', hmacKey, concatBytes(...parts)));
  },
};
