/**
 * The `des` suite as a SecureChannel: derive the key once, then encrypt and decrypt frames.
 * No handshake, so no confirmation: a wrong passphrase shows only when a frame fails to decrypt,
 * and then every failure reaches the app as the same `decrypt-failed` warning.
 */
import { desDecrypt, desEncrypt, deriveDesKey, isDesDecryptError } from '../crypto/des-suite.ts';
import { duetError } from '../errors.ts';
import type { ChannelEffect, SecureChannel } from './channel.ts';

export interface DesChannelOptions {
  passphrase: string;
  /** The PBKDF2 salt: the room's default (`roomSalt`) or one the user typed. */
  salt: Uint8Array;
}

export function createDesChannel(options: DesChannelOptions): SecureChannel {
  let passphrase = options.passphrase;
  let key: Uint8Array | undefined;
  let paired = false;

  async function ready(): Promise<ChannelEffect[]> {
    key ??= await deriveDesKey(passphrase, options.salt);
    return [{ type: 'ready' }];
  }

  return {
    suite: 'des',
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
      try {
        return [{ type: 'message', text: desDecrypt(key, frame) }];
      } catch (error) {
        if (isDesDecryptError(error)) return [{ type: 'warning', code: 'decrypt-failed' }];
        throw error;
      }
    },
    async send(text) {
      if (key === undefined || !paired) throw duetError('no-partner', 'the des channel is not ready');
      return [{ type: 'transmit', frame: desEncrypt(key, text) }];
    },
    reset() {
      paired = false;
    },
  };
}
