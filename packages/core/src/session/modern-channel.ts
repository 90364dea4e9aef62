/**
 * The `modern` suite as a SecureChannel: wires the handshake machine (session/handshake.ts) to
 * the Double Ratchet (session/double-ratchet.ts) and the wire format (crypto/modern-frame.ts).
 *
 * Invariant: message keys exist only while the handshake is `confirmed`. Whenever the handshake
 * leaves that phase (new grant, partner restart, abort, reset) the ratchet is destroyed and its
 * keys wiped. docs/security.md describes the whole design.
 */
import { randomBytes } from '../bytes.ts';
import { decodeFrame } from '../crypto/modern-frame.ts';
import { MAX_DATA_BYTES } from '../crypto/padding.ts';
import { duetError, isDuetError } from '../errors.ts';
import { roomCode } from '../protocol/control.ts';
import type { ChannelEffect, SecureChannel } from './channel.ts';
import type { FrameCrypto } from '../crypto/frame-crypto.ts';
import { chooseX25519, type X25519 } from '../crypto/x25519.ts';
import { createDoubleRatchet, type DoubleRatchet } from './double-ratchet.ts';
import { createHandshake, type HandshakeStep } from './handshake.ts';

export interface ModernChannelOptions {
  /** The shared passphrase; NFKC-normalised before use. Never leaves this object. */
  passphrase: string;
  /** The room code: part of the CPace channel identifier, so keys are bound to the room. */
  room: string;
  /** A CSPRNG; defaults to WebCrypto. Tests may pass a seeded one. */
  random?: (length: number) => Uint8Array;
  /** A monotonic clock in ms (skipped keys expire, work is budgeted); defaults to `performance.now`. */
  now?: () => number;
  /** Where DH ratchet steps come from; defaults to WebCrypto's X25519, else @noble/curves with `random`. */
  x25519?: X25519;
  /** The frames' AES-GCM and HMAC; defaults to WebCrypto (crypto/frame-crypto.ts says when not). */
  frames?: FrameCrypto;
}

/** Creates a `modern` channel. Throws DuetError('bad-input') for an empty passphrase or bad room. */
export function createModernChannel(options: ModernChannelOptions): SecureChannel {
  if (!roomCode.safeParse(options.room).success) throw duetError('bad-input', 'room code is not valid');
  const random = options.random ?? randomBytes;
  const handshake = createHandshake({ passphrase: options.passphrase, room: options.room, random });
  const now = options.now ?? (() => performance.now());
  let x25519: Promise<X25519> | undefined = options.x25519 && Promise.resolve(options.x25519);
  let ratchet: DoubleRatchet | undefined;

  function dropKeys(): void {
    ratchet?.destroy();
    ratchet = undefined;
  }

  /** Installs fresh keys, or erases the old ones once the handshake is no longer confirmed. */
  async function apply(step: HandshakeStep): Promise<ChannelEffect[]> {
    if (step.keys !== undefined) {
      dropKeys();
      ratchet = await createDoubleRatchet(step.keys, await (x25519 ??= chooseX25519(random)), options.frames);
    } else if (handshake.phase !== 'confirmed') {
      dropKeys();
    }
    return step.effects;
  }

  async function receiveFrame(bytes: Uint8Array): Promise<ChannelEffect[]> {
    let frame;
    try {
      frame = decodeFrame(bytes);
    } catch {
      return handshake.phase === 'failed' ? [] : [{ type: 'warning', code: 'bad-frame' }];
    }
    if (frame.type !== 'message' && frame.type !== 'data') return apply(handshake.receive(frame));
    // Before confirmation there is no key to try; on an ordered transport a genuine message
    // cannot arrive then, and in `failed` every input is absorbed.
    if (ratchet === undefined) return [];
    const effects = await ratchet.open(frame, now());
    if (effects.some((effect) => effect.type === 'message' || effect.type === 'data'))
      handshake.partnerProvedKeys();
    return effects;
  }

  return {
    suite: 'modern',
    maxDataBytes: MAX_DATA_BYTES,
    async start(role) {
      dropKeys();
      return apply(handshake.start(role));
    },
    async grant(attempt, nonce) {
      return apply(handshake.grant(attempt, nonce));
    },
    async retry(passphrase) {
      dropKeys();
      return apply(handshake.retry(passphrase));
    },
    async receive(frame) {
      try {
        return await receiveFrame(frame);
      } catch (error) {
        // Never throw for what the partner or the relay sent: report it and go on.
        return [{ type: 'warning', code: isDuetError(error) ? error.code : 'bad-frame' }];
      }
    },
    async send(payload) {
      if (ratchet === undefined) throw duetError('no-partner', 'the modern channel is not ready');
      const frame =
        typeof payload === 'string'
          ? await ratchet.seal(payload, now())
          : await ratchet.sealData(payload, now());
      return [{ type: 'transmit', frame }];
    },
    reset() {
      dropKeys();
      handshake.reset();
    },
  };
}
