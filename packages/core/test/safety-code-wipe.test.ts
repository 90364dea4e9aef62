/**
 * The safety code's HKDF output is wiped once the code is read from it: the five words are all
 * that leaves deriveSafetyCode. Seen by keeping the array HKDF returned (a wrapper around
 * @noble/hashes' hkdf); nothing else can see it.
 */
import { describe, expect, it, vi } from 'vitest';
import { deriveSafetyCode } from '../src/crypto/safety-code.ts';

const outputs = vi.hoisted(() => [] as Uint8Array[]);

vi.mock('@noble/hashes/hkdf.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('@noble/hashes/hkdf.js')>();
  return {
    ...real,
    hkdf: (...args: Parameters<typeof real.hkdf>) => {
      const output = real.hkdf(...args);
      outputs.push(output);
      return output;
    },
  };
});

describe('safety code: erasure', () => {
  it('wipes the HKDF output it read the code from', () => {
    const isk = Uint8Array.from({ length: 64 }, (_, i) => i);
    const sid = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
    expect(deriveSafetyCode(isk, sid)).toEqual([1060, 1397, 1486, 644, 1008]);
    expect(outputs).toHaveLength(1);
    expect(outputs[0]).toEqual(new Uint8Array(7));
  });
});
