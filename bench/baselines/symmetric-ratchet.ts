/**
 * Baseline for the crypto workload: the message path of `modern` version 1, the symmetric ratchet
 * the Double Ratchet replaced (one HKDF chain per direction, a step per message, no DH), measured
 * in the same run so that the Double Ratchet's figures have something to be compared with. Same
 * primitives as the product (@noble/hashes, crypto/aead.ts, crypto/padding.ts) and the same
 * 11-byte header; not used by Duet itself.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes, utf8DecodeStrict, utf8Encode, wipe } from '@duet/core/bytes';
import { openOnce, sealOnce } from '@duet/core/crypto/aead';
import { pad, unpad } from '@duet/core/crypto/padding';

const HEADER_BYTES = 11;

function header(seq: number): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  out.set([1, 1, 0x10]);
  new DataView(out.buffer).setBigUint64(3, BigInt(seq));
  return out;
}

function step(chain: Uint8Array): { messageKey: Uint8Array; nextChain: Uint8Array } {
  return {
    messageKey: hmac(sha256, chain, Uint8Array.of(1)),
    nextChain: hmac(sha256, chain, Uint8Array.of(2)),
  };
}

/** One direction of a version-1 session: `seal` on one side, `open` on the other. */
export function symmetricDirection(): {
  seal(text: string): Promise<Uint8Array>;
  open(frame: Uint8Array): Promise<string>;
} {
  const chain = hkdf(sha256, randomBytes(64), randomBytes(16), utf8Encode('duet/chain/initiator'), 32);
  let sendChain: Uint8Array = chain.slice();
  let receiveChain: Uint8Array = chain.slice();
  let nextSend = 0;
  let nextReceive = 0;
  return {
    async seal(text) {
      const padded = pad(utf8Encode(text));
      const { messageKey, nextChain } = step(sendChain);
      wipe(sendChain);
      sendChain = nextChain;
      const seq = nextSend++;
      const head = header(seq);
      const ciphertext = await sealOnce(messageKey, seq, head, padded);
      const frame = new Uint8Array(HEADER_BYTES + ciphertext.length);
      frame.set(head);
      frame.set(ciphertext, HEADER_BYTES);
      return frame;
    },
    async open(frame) {
      const seq = Number(new DataView(frame.buffer, frame.byteOffset).getBigUint64(3));
      if (seq !== nextReceive) throw new Error('baseline: out of order');
      const { messageKey, nextChain } = step(receiveChain);
      const padded = await openOnce(
        messageKey,
        seq,
        frame.subarray(0, HEADER_BYTES),
        frame.subarray(HEADER_BYTES),
      );
      wipe(receiveChain);
      receiveChain = nextChain;
      nextReceive += 1;
      return utf8DecodeStrict(unpad(padded));
    },
  };
}
