/**
 * destroy() while a seal is under way: the seal fails as a seal on an erased ratchet does, makes
 * no frame, and does no more work with the erased keys (double-ratchet.ts, `erasedError`).
 */
import { describe, expect, it, vi } from 'vitest';
import { webCryptoFrames, type FrameCrypto } from '../src/crypto/frame-crypto.ts';
import { deriveSessionKeys } from '../src/crypto/modern-keys.ts';
import { MAX_DATA_BYTES } from '../src/crypto/padding.ts';
import { nobleX25519 } from '../src/crypto/x25519.ts';
import { createDoubleRatchet, type DoubleRatchet } from '../src/session/double-ratchet.ts';
import { ISK, SID, seededRandom } from './ratchet-pair.ts';

/** A ratchet whose frame crypto calls `during` once, inside the step named. */
async function ratchetDestroyedDuring(step: 'seal' | 'hmacSha256') {
  const held: { ratchet?: DoubleRatchet } = {};
  const frames: FrameCrypto = {
    ...webCryptoFrames,
    seal: vi.fn(async (...args: Parameters<FrameCrypto['seal']>) => {
      const sealed = await webCryptoFrames.seal(...args);
      if (step === 'seal') held.ratchet!.destroy();
      return sealed;
    }),
    hmacSha256: vi.fn(async (...args: Parameters<FrameCrypto['hmacSha256']>) => {
      const tag = await webCryptoFrames.hmacSha256(...args);
      if (step === 'hmacSha256') held.ratchet!.destroy();
      return tag;
    }),
  };
  const ratchet = await createDoubleRatchet(
    deriveSessionKeys(ISK, SID, 'initiator'),
    nobleX25519(seededRandom('erased-seal')),
    frames,
  );
  held.ratchet = ratchet;
  return { ratchet, frames };
}

// Large enough that the frame MAC goes to `frames.hmacSha256` (frame-mac.ts).
const CHUNK = new Uint8Array(MAX_DATA_BYTES).fill(5);
const noPartner = expect.objectContaining({ code: 'no-partner' });

describe('double ratchet: destroyed while sealing', () => {
  it('during the encryption: fails, and never computes the MAC', async () => {
    const { ratchet, frames } = await ratchetDestroyedDuring('seal');
    await expect(ratchet.sealData(CHUNK, 0)).rejects.toEqual(noPartner);
    expect(frames.seal).toHaveBeenCalledTimes(1);
    expect(frames.hmacSha256).not.toHaveBeenCalled();
  });

  it('during the MAC: fails instead of returning a frame, and stays erased', async () => {
    const { ratchet, frames } = await ratchetDestroyedDuring('hmacSha256');
    await expect(ratchet.sealData(CHUNK, 0)).rejects.toEqual(noPartner);
    expect(frames.hmacSha256).toHaveBeenCalledTimes(1);
    await expect(ratchet.sealData(Uint8Array.of(1), 0)).rejects.toEqual(noPartner);
  });
});
