/**
 * The message layer of the `modern` suite once keys are confirmed: one sending chain, one
 * receiving chain, strictly increasing sequence numbers per direction starting at 0.
 *
 * Receiving, on an ordered transport:
 * - seq < next expected: `replayed` (refused without any crypto; nothing changes);
 * - seq = next: one ratchet step, decrypt;
 * - next < seq ≤ next + MAX_SKIP: step forward on a scratch copy of the chain (the relay dropped
 *   frames; their keys are not kept, so those messages are lost), decrypt;
 * - beyond: `tampered`.
 * Nothing is committed until the frame authenticated: a forged or altered frame (including an
 * altered seq) changes no state, so the next genuine frame still decrypts.
 */
import { utf8DecodeStrict, utf8Encode, wipe } from '../bytes.ts';
import { openOnce, sealOnce } from '../crypto/aead.ts';
import { encodeFrame, payloadHeader, type PayloadType } from '../crypto/modern-frame.ts';
import { ratchetStep } from '../crypto/modern-keys.ts';
import { MAX_DATA_BYTES, MAX_TEXT_BYTES, pad, unpad } from '../crypto/padding.ts';
import { duetError, isDuetError } from '../errors.ts';
import type { ChannelEffect } from './channel.ts';

/** How far ahead of the expected sequence number a frame may be (frames the relay dropped). */
export const MAX_SKIP = 1000;

/** Confirmed keys for one session, by direction as seen from this side. */
export interface SessionKeys {
  send: Uint8Array;
  receive: Uint8Array;
}

export interface Ratchet {
  /**
   * Pads and encrypts one text (a `message` frame) or binary payload (a `data` frame); returns
   * the whole frame. Throws DuetError('bad-input').
   */
  seal(payload: string | Uint8Array): Promise<Uint8Array>;
  /** Opens one decoded message (or data) frame; never throws: refusals are `warning` effects. */
  open(seq: number, ciphertext: Uint8Array, type?: PayloadType): Promise<ChannelEffect[]>;
  /** Erases both chain keys; the ratchet is unusable afterwards. */
  destroy(): void;
}

/** Takes ownership of `keys` (they are wiped as the chains advance and on `destroy`). */
export function createRatchet(keys: SessionKeys): Ratchet {
  let sendChain = keys.send;
  let receiveChain = keys.receive;
  let nextSend = 0;
  let nextReceive = 0;
  let destroyed = false;

  return {
    async seal(payload) {
      if (destroyed) throw duetError('no-partner', 'the session keys were erased');
      const type = typeof payload === 'string' ? 'message' : 'data';
      if (typeof payload === 'string' && /\p{Cs}/u.test(payload)) {
        // TextEncoder would silently turn a lone surrogate into U+FFFD: refuse instead.
        throw duetError('bad-input', 'text is not well-formed Unicode');
      }
      const padded = typeof payload === 'string' ? pad(utf8Encode(payload)) : pad(payload, MAX_DATA_BYTES);
      const { messageKey, nextChain } = ratchetStep(sendChain);
      wipe(sendChain);
      sendChain = nextChain;
      const seq = nextSend++;
      const ciphertext = await sealOnce(messageKey, seq, payloadHeader(type, seq), padded);
      wipe(padded);
      return encodeFrame({ type, seq, ciphertext });
    },

    async open(seq, ciphertext, type = 'message') {
      if (destroyed) return [];
      if (seq < nextReceive) return [{ type: 'warning', code: 'replayed' }];
      if (seq - nextReceive > MAX_SKIP) return [{ type: 'warning', code: 'tampered' }];
      let chain: Uint8Array = receiveChain.slice();
      for (let i = nextReceive; i < seq; i++) {
        const skipped = ratchetStep(chain);
        wipe(skipped.messageKey);
        wipe(chain);
        chain = skipped.nextChain;
      }
      const { messageKey, nextChain } = ratchetStep(chain);
      wipe(chain);
      let padded: Uint8Array;
      try {
        padded = await openOnce(messageKey, seq, payloadHeader(type, seq), ciphertext);
      } catch (error) {
        wipe(nextChain);
        return [{ type: 'warning', code: isDuetError(error, 'tampered') ? 'tampered' : 'bad-frame' }];
      }
      // Authentic: commit before looking at the content, which the partner really sent.
      wipe(receiveChain);
      receiveChain = nextChain;
      nextReceive = seq + 1;
      try {
        if (type === 'data') return [{ type: 'data', bytes: unpad(padded, MAX_DATA_BYTES).slice() }];
        return [{ type: 'message', text: utf8DecodeStrict(unpad(padded, MAX_TEXT_BYTES)) }];
      } catch {
        return [{ type: 'warning', code: 'bad-frame' }];
      } finally {
        wipe(padded);
      }
    },

    destroy() {
      destroyed = true;
      wipe(sendChain);
      wipe(receiveChain);
    },
  };
}
