/**
 * double-ratchet.ts pads every payload of a ratchet into one buffer, reused from seal to seal
 * (each 60 KiB array per file chunk adds to the full collections a transfer costs), and wipes
 * it after each seal; two seals at once do not share it.
 */
import { describe, expect, it, vi } from 'vitest';
import { MAX_DATA_BYTES } from '../src/crypto/padding.ts';
import { ratchetPair } from './ratchet-pair.ts';

/** Every buffer `pad` was asked to pad into, in order, and what it held after the seal. */
const into: (Uint8Array | undefined)[] = [];

vi.mock('../src/crypto/padding.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/crypto/padding.ts')>();
  return {
    ...real,
    pad: (...args: Parameters<typeof real.pad>) => {
      into.push(args[2]);
      return real.pad(...args);
    },
  };
});

describe('double ratchet: the buffer payloads are padded into', () => {
  it('is the same from one seal to the next, and holds nothing once a seal is done', async () => {
    const { a } = await ratchetPair();
    into.length = 0;
    await a.sealData(new Uint8Array(MAX_DATA_BYTES).fill(7), 0);
    await a.sealData(Uint8Array.of(1, 2, 3), 0);
    expect(into).toHaveLength(2);
    expect(into[0]).toBeInstanceOf(Uint8Array);
    expect(into[1]).toBe(into[0]);
    expect(into[0]!.every((byte) => byte === 0)).toBe(true);
  });

  it('is not shared by two seals at once', async () => {
    const { a } = await ratchetPair();
    into.length = 0;
    await Promise.all([a.sealData(Uint8Array.of(1), 0), a.sealData(Uint8Array.of(2), 0)]);
    expect(into).toHaveLength(2);
    expect(into[1]).not.toBe(into[0]);
  });
});
