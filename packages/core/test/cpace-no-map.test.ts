import { describe, expect, it, vi } from 'vitest';
import { calculateGenerator } from '../src/crypto/cpace.ts';

// @noble/curves declares the ristretto255 one-way map (deriveToCurve) optional. A build without
// it must make calculateGenerator fail with a code, not a TypeError. (A file of its own: vi.mock
// replaces the module for the whole file.)
vi.mock('@noble/curves/ed25519.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('@noble/curves/ed25519.js')>();
  return { ...original, ristretto255_hasher: { ...original.ristretto255_hasher, deriveToCurve: undefined } };
});

describe('CPace without the one-way map', () => {
  it('refuses to compute a generator, as bad-input', () => {
    const bytes = new Uint8Array(16);
    expect(() => calculateGenerator(bytes, bytes, bytes)).toThrow(
      expect.objectContaining({ code: 'bad-input' }),
    );
  });
});
