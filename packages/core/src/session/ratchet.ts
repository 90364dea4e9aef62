/**
 * The message layer of the `modern` suite once keys are confirmed: one sending chain, one
 * receiving chain, strictly increasing sequence numbers per direction starting at 0.
 *
 * Receiving, on an ordered transport:
 * - seq < next expected: `replayed` (refused without any crypto; nothing changes);
 * - seq = next: one ratchet step, decrypt;
 * - next < seq ≤ next + MAX_SKIP: step forward on a scratch copy of the chain (the relay dropped
 *   frames; their keys are not kept, so those messages are lost), decrypt;
 * - beyond: `tampered`, without any crypto.
 * Nothing is committed until the frame authenticated: a forged or altered frame (including an
 * altered seq) changes no state, so the next genuine frame still decrypts.
 *
 * Skipping is work done before the frame is known to be genuine, so it is bounded twice: at most
 * MAX_SKIP chain steps per frame (under 1 ms), and at most SKIP_BUDGET_PER_SECOND steps a second
 * (SKIP_BUDGET_BURST at once) whatever the rate of frames. A frame that would overspend is
 * refused as `tampered` without any crypto; the delivery layer sends its message again.
 */
import { utf8DecodeStrict, utf8Encode, wipe } from '../bytes.ts';
import { openOnce, sealOnce } from '../crypto/aead.ts';
import { encodeFrame, messageHeader } from '../crypto/modern-frame.ts';
import { advanceChain, ratchetStep } from '../crypto/modern-keys.ts';
import { pad, unpad } from '../crypto/padding.ts';
import { duetError, isDuetError } from '../errors.ts';
import type { ChannelEffect } from './channel.ts';
import { WorkBudget } from './work-budget.ts';

/**
 * How far ahead of the expected sequence number a frame may be (frames the relay dropped). Each
 * skipped frame costs one HMAC (about 13 µs here), so a forged frame costs at most about 0.5 ms.
 */
export const MAX_SKIP = 32;
/** Chain steps spent on skipping, per second and at once, across all frames. */
export const SKIP_BUDGET_PER_SECOND = 256;
export const SKIP_BUDGET_BURST = 256;

/** Confirmed keys for one session, by direction as seen from this side. */
export interface SessionKeys {
  send: Uint8Array;
  receive: Uint8Array;
}

export interface Ratchet {
  /** Pads and encrypts one message; returns the whole frame. Throws DuetError('bad-input'). */
  seal(text: string): Promise<Uint8Array>;
  /**
   * Opens one decoded message frame at time `now` (ms, any monotonic clock); never throws:
   * refusals are `warning` effects.
   */
  open(seq: number, ciphertext: Uint8Array, now: number): Promise<ChannelEffect[]>;
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
  const skipBudget = new WorkBudget(SKIP_BUDGET_BURST, SKIP_BUDGET_PER_SECOND);

  return {
    async seal(text) {
      if (destroyed) throw duetError('no-partner', 'the session keys were erased');
      // TextEncoder would silently turn a lone surrogate into U+FFFD: refuse instead.
      if (/\p{Cs}/u.test(text)) throw duetError('bad-input', 'text is not well-formed Unicode');
      const padded = pad(utf8Encode(text));
      const { messageKey, nextChain } = ratchetStep(sendChain);
      wipe(sendChain);
      sendChain = nextChain;
      const seq = nextSend++;
      const ciphertext = await sealOnce(messageKey, seq, messageHeader(seq), padded);
      wipe(padded);
      return encodeFrame({ type: 'message', seq, ciphertext });
    },

    async open(seq, ciphertext, now) {
      if (destroyed) return [];
      if (seq < nextReceive) return [{ type: 'warning', code: 'replayed' }];
      const skip = seq - nextReceive;
      if (skip > MAX_SKIP || (skip > 0 && !skipBudget.spend(skip, now)))
        return [{ type: 'warning', code: 'tampered' }];
      let chain: Uint8Array = receiveChain.slice();
      for (let i = 0; i < skip; i++) {
        const next = advanceChain(chain);
        wipe(chain);
        chain = next;
      }
      const { messageKey, nextChain } = ratchetStep(chain);
      wipe(chain);
      let padded: Uint8Array;
      try {
        padded = await openOnce(messageKey, seq, messageHeader(seq), ciphertext);
      } catch (error) {
        wipe(nextChain);
        return [{ type: 'warning', code: isDuetError(error, 'tampered') ? 'tampered' : 'bad-frame' }];
      }
      // Authentic: commit before looking at the content, which the partner really sent.
      wipe(receiveChain);
      receiveChain = nextChain;
      nextReceive = seq + 1;
      try {
        return [{ type: 'message', text: utf8DecodeStrict(unpad(padded)) }];
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
