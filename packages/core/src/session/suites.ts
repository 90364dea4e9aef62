/**
 * The suites as a table: which channel to build for the suite a room uses. Each suite's code is
 * loaded when a room asks for it (or `preloadSuite` warms it), so that a page that never uses
 * `des` never downloads crypto-js and the `des` code, and the first screen downloads neither.
 */
import { fromHex } from '../bytes.ts';
import type { FrameCrypto } from '../crypto/frame-crypto.ts';
import type { X25519 } from '../crypto/x25519.ts';
import { duetError } from '../errors.ts';
import { rehearseControl, type SuiteId } from '../protocol/control.ts';
import type { SecureChannel } from './channel.ts';

export interface ChannelSettings {
  suite: SuiteId;
  room: string;
  passphrase: string;
  /** `des` only: a hex salt, or empty for the room's default salt. */
  saltHex: string;
  /** `modern` only: the frames' AES-GCM and HMAC, if not WebCrypto's (crypto/frame-crypto.ts). */
  frames?: FrameCrypto;
  /** `modern` only: the DH ratchet's X25519, if not the one `chooseX25519` picks (crypto/x25519.ts). */
  x25519?: X25519;
}

type ChannelFactory = (settings: ChannelSettings) => Promise<SecureChannel>;

const SUITES: Record<SuiteId, () => Promise<ChannelFactory>> = {
  des: async () => {
    const [{ roomSalt }, { createDesChannel }] = await Promise.all([
      import('../crypto/des-suite.ts'),
      import('./des-channel.ts'),
    ]);
    return async (settings) => {
      const salt = settings.saltHex ? fromHex(settings.saltHex) : await roomSalt(settings.room);
      return createDesChannel({ passphrase: settings.passphrase, salt });
    };
  },
  modern: async () => {
    const { createModernChannel } = await import('./modern-channel.ts');
    return async ({ passphrase, room, frames, x25519 }) =>
      createModernChannel({ passphrase, room, frames, x25519 });
  },
};

function suiteLoader(suite: SuiteId): () => Promise<ChannelFactory> {
  // Object.hasOwn: a suite name from outside the type system must not reach the prototype.
  if (!Object.hasOwn(SUITES, suite)) throw duetError('bad-suite', 'unknown suite');
  return SUITES[suite];
}

/** Downloads (in a browser) and evaluates a suite's code ahead of its first channel. */
export async function preloadSuite(suite: SuiteId): Promise<void> {
  await suiteLoader(suite)();
}

/**
 * Warms up what the first moments with a partner run, so that its code is warm when the partner
 * comes: the relay's messages (protocol/control.ts, `rehearseControl`), then for `modern` a
 * throwaway handshake in memory (session/modern-rehearsal.ts); `des`, whose channel does its
 * work when it is built, has no handshake to rehearse. `pause` is awaited before each step.
 */
export async function rehearseSuite(suite: SuiteId, pause?: () => Promise<void>): Promise<void> {
  await pause?.();
  rehearseControl();
  if (suite !== 'modern') return;
  const { rehearseModernHandshake } = await import('./modern-rehearsal.ts');
  await rehearseModernHandshake(pause);
}

/** Builds a channel for the room's suite; throws `bad-suite` for a suite Duet does not know. */
export async function createChannel(settings: ChannelSettings): Promise<SecureChannel> {
  const factory = await suiteLoader(settings.suite)();
  return factory(settings);
}
