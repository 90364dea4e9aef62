/**
 * A rehearsal of the `modern` handshake, for a page to run while it waits for its partner: two
 * throwaway channels in one made-up room, with a random passphrase, go through one whole
 * handshake in memory (grant, hellos, Ya, Yb ‖ Tb, Ta, the ratchets' first keys), then forget
 * their keys. Nothing is sent and nothing is kept; the real channel shares nothing with them.
 *
 * Why: in a freshly loaded page, the first handshake's crypto runs cold (each function compiled
 * on its first call, then interpreted), at two to four times the cost of the same code warm:
 * about 80 ms more on the path to a secure channel in Chromium (docs/benchmarks.md).
 * Rehearsed beforehand (web/src/lib/warm-up.ts), the real handshake meets compiled code, and
 * WebCrypto's X25519 is already known to work or not.
 *
 * `pause` is awaited before each step, so that the caller can give each step an idle moment of
 * its own rather than hold its thread for the whole rehearsal.
 */
import { randomBytes, toHex } from '../bytes.ts';
import { duetError } from '../errors.ts';
import type { ChannelEffect, SecureChannel } from './channel.ts';
import { createModernChannel } from './modern-channel.ts';

/** Frames a whole handshake sends: two hellos, Ya, Yb ‖ Tb, Ta. More means something went wrong. */
const MAX_FRAMES = 5;

export async function rehearseModernHandshake(pause: () => Promise<void> = async () => {}): Promise<void> {
  const room = `rehearsal-${toHex(randomBytes(8))}`;
  const passphrase = toHex(randomBytes(16));
  const initiator = createModernChannel({ passphrase, room });
  const responder = createModernChannel({ passphrase, room });
  const partnerOf = (channel: SecureChannel) => (channel === initiator ? responder : initiator);
  const inFlight: { to: SecureChannel; frame: Uint8Array }[] = [];
  const ready = new Set<SecureChannel>();
  const carryOut = (from: SecureChannel, effects: ChannelEffect[]) => {
    for (const effect of effects) {
      if (effect.type === 'transmit') inFlight.push({ to: partnerOf(from), frame: effect.frame });
      else if (effect.type === 'ready') ready.add(from);
    }
  };
  try {
    await initiator.start('initiator');
    await responder.start('responder');
    const nonce = randomBytes(16);
    for (const channel of [initiator, responder]) {
      await pause();
      carryOut(channel, await channel.grant(1, nonce));
    }
    for (let frames = 0; frames < MAX_FRAMES; frames += 1) {
      const next = inFlight.shift();
      if (next === undefined) break;
      await pause();
      carryOut(next.to, await next.to.receive(next.frame));
    }
    if (ready.size !== 2) throw duetError('handshake-failed', 'the rehearsal did not reach ready');
  } finally {
    initiator.reset();
    responder.reset();
  }
}
