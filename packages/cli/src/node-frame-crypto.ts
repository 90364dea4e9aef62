/**
 * The frame primitives of core's crypto/frame-crypto.ts by Node's own `node:crypto`: the OpenSSL
 * that backs Node's WebCrypto, called synchronously. Same bytes as WebCrypto (core's
 * frame-crypto.test.ts checks both against the same answers), about a third of the CPU per file
 * chunk: no trip to the thread pool, no copies of the input (docs/benchmarks.md, workload h).
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import type { FrameCrypto } from '@duet/core/crypto/frame-crypto';

const TAG_BYTES = 16;

const view = (buffer: Buffer): Uint8Array => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);

export const nodeFrameCrypto: FrameCrypto = {
  async seal(key, nonce, associatedData, plaintext) {
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData);
    // Two parts, not joined: the frame is assembled from them (one large array less per chunk).
    const body = cipher.update(plaintext);
    cipher.final(); // GCM adds no bytes at the end
    return [view(body), view(cipher.getAuthTag())];
  },
  async open(key, nonce, associatedData, sealed) {
    if (sealed.length < TAG_BYTES) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    // GCM's update gives plaintext before final() has checked the tag: it leaves this function
    // only once the tag verified, and is wiped otherwise.
    const body = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
    try {
      decipher.final(); // throws only for a tag that does not verify: the key and nonce were taken
    } catch {
      body.fill(0);
      return undefined;
    }
    return view(body);
  },
  async hmacSha256(key, parts) {
    const hmac = createHmac('sha256', key);
    for (const part of parts) hmac.update(part);
    return view(hmac.digest());
  },
};
