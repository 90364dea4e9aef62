/**
 * Baseline for the crypto workload: the message path of `modern` version 1, the symmetric ratchet
 * the Double Ratchet replaced (one HKDF chain per direction, a step per message, no DH, no MAC),
 * measured in the same run so that the Double Ratchet's figures have something to be compared
 * with. Same primitives as the product (@noble/hashes, crypto/aead.ts, crypto/padding.ts) and the
 * same 11-byte header; not used by Duet itself.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes, utf8DecodeStrict, utf8Encode, wipe } from '@duet/core/bytes';
import { openOnce, sealOnce } from '@duet/core/crypto/aead';
import { pad, unpad } from '@duet/core/crypto/padding';
import type { ChannelEffect } from '@duet/core/session/channel';

const HEADER_BYTES = 11;

/** The message path of a channel, as the crypto workload drives it. */
export interface MessagePath {
  send(text: string): Promise<ChannelEffect[]>;
  receive(frame: Uint8Array): Promise<ChannelEffect[]>;
}

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

/**
 * One direction of a version-1 session, shaped like a channel's message path (`send` on one
 * side, `receive` on the other, effects out, the frame checked and its ciphertext copied as the
 * version-1 decoder did), so that it is measured the way the Double Ratchet's channel is.
 */
export function symmetricDirection(): MessagePath {
  const chain = hkdf(sha256, randomBytes(64), randomBytes(16), utf8Encode('duet/chain/initiator'), 32);
  let sendChain: Uint8Array = chain.slice();
  let receiveChain: Uint8Array = chain.slice();
  let nextSend = 0;
  let nextReceive = 0;

  async function seal(text: string): Promise<Uint8Array> {
    const padded = pad(utf8Encode(text));
    const { messageKey, nextChain } = step(sendChain);
    wipe(sendChain);
    sendChain = nextChain;
    const seq = nextSend++;
    const head = header(seq);
    return concatBytes(head, ...(await sealOnce(messageKey, seq, head, padded)));
  }

  async function open(frame: Uint8Array): Promise<string> {
    if (frame[0] !== 1 || frame[1] !== 1 || frame[2] !== 0x10) throw new Error('baseline: not a message');
    const seq = Number(new DataView(frame.buffer, frame.byteOffset).getBigUint64(3));
    if (seq !== nextReceive) throw new Error('baseline: out of order');
    const ciphertext = frame.slice(HEADER_BYTES);
    const { messageKey, nextChain } = step(receiveChain);
    const padded = await openOnce(messageKey, seq, header(seq), ciphertext);
    wipe(receiveChain);
    receiveChain = nextChain;
    nextReceive += 1;
    return utf8DecodeStrict(unpad(padded));
  }

  return {
    async send(text) {
      return [{ type: 'transmit', frame: await seal(text) }];
    },
    async receive(frame) {
      return [{ type: 'message', text: await open(frame) }];
    },
  };
}
