/**
 * The `des` suite as a SecureChannel: derive the key once, then encrypt and decrypt frames.
 * No handshake, so no confirmation: a wrong passphrase shows only when a frame fails to decrypt,
 * and then every failure reaches the app as the same `decrypt-failed` warning.
 *
 * Two checks the original lacks, on the frame's random 8-byte IV (a genuine collision is
 * negligible), neither of them answered on the network:
 *   - both directions share one key, so a relay could send a frame back to its sender and have
 *     it shown as the partner's: a frame with one of the IVs this side sent recently is dropped
 *     as `replayed`;
 *   - a message the relay may not have received is sent again byte for byte after a reconnect
 *     (delivery.ts): a frame with an IV this side received recently is that copy, dropped
 *     silently. This is no replay protection: an older frame is accepted again.
 */
import { toHex } from '../bytes.ts';
import {
  DES_BLOCK_BYTES,
  desDecrypt,
  desEncrypt,
  deriveDesKey,
  isDesDecryptError,
} from '../crypto/des-suite.ts';
import { duetError } from '../errors.ts';
import type { ChannelEffect, SecureChannel } from './channel.ts';

export interface DesChannelOptions {
  passphrase: string;
  /** The PBKDF2 salt: the room's default (`roomSalt`) or one the user typed. */
  salt: Uint8Array;
}

/** How many of this side's latest IVs are remembered to catch reflected frames. */
export const REMEMBERED_IVS = 1024;

export function createDesChannel(options: DesChannelOptions): SecureChannel {
  let passphrase = options.passphrase;
  let key: Uint8Array | undefined;
  let paired = false;
  const sentIvs = new RecentSet(REMEMBERED_IVS);
  const receivedIvs = new RecentSet(REMEMBERED_IVS);

  async function ready(): Promise<ChannelEffect[]> {
    key ??= await deriveDesKey(passphrase, options.salt);
    return [{ type: 'ready' }];
  }

  return {
    suite: 'des',
    maxDataBytes: 0,
    async start() {
      paired = true;
      return ready();
    },
    async grant() {
      return [];
    },
    async retry(newPassphrase) {
      passphrase = newPassphrase;
      key = undefined;
      return paired ? ready() : [];
    },
    async receive(frame) {
      if (key === undefined) return [{ type: 'warning', code: 'decrypt-failed' }];
      const iv = ivOf(frame);
      if (sentIvs.has(iv)) return [{ type: 'warning', code: 'replayed' }];
      if (receivedIvs.has(iv)) return [];
      try {
        const text = desDecrypt(key, frame);
        receivedIvs.add(iv); // only once it decrypted: a forged copy must not hide the real one
        return [{ type: 'message', text }];
      } catch (error) {
        if (isDesDecryptError(error)) return [{ type: 'warning', code: 'decrypt-failed' }];
        throw error;
      }
    },
    async send(payload) {
      // The original design carries texts and nothing else, with no integrity: no files.
      if (typeof payload !== 'string') throw duetError('bad-input', 'des carries texts only');
      if (key === undefined || !paired) throw duetError('no-partner', 'the des channel is not ready');
      const frame = desEncrypt(key, payload);
      sentIvs.add(ivOf(frame));
      return [{ type: 'transmit', frame }];
    },
    reset() {
      paired = false;
    },
  };
}

function ivOf(frame: Uint8Array): string {
  return toHex(frame.subarray(0, DES_BLOCK_BYTES));
}

/** A set that keeps only its latest `capacity` entries. */
class RecentSet {
  readonly #entries = new Set<string>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  add(entry: string): void {
    this.#entries.add(entry);
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.values().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  has(entry: string): boolean {
    return this.#entries.has(entry);
  }
}
