/**
 * Every crypto boundary checks its inputs (STYLE.md, rule 6): a wrong size or type is a coded
 * `bad-input`, never a silent truncation or a crash deeper down.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { concatBytes } from '../src/bytes.ts';
import { openOnce, sealOnce } from '../src/crypto/aead.ts';
import { messageHeader as header } from '../src/crypto/modern-frame.ts';
import { checkPassphrase, passwordRelatedString, sessionId } from '../src/crypto/modern-inputs.ts';
import { chainStep, deriveSessionKeys } from '../src/crypto/modern-keys.ts';

const badInput = expect.objectContaining({ code: 'bad-input' });
const bytes = (length: number) => new Uint8Array(length).fill(3);
const messageHeader = (n: number) => header({ dh: bytes(32), pn: 0, n });

describe('crypto boundaries', () => {
  it('the key schedule wants an ISK of at least 32 bytes and a non-empty sid', () => {
    expect(() => deriveSessionKeys(bytes(31), bytes(16), 'initiator')).toThrow(badInput);
    expect(() => deriveSessionKeys(bytes(32), bytes(0), 'initiator')).toThrow(badInput);
    expect(() => deriveSessionKeys('isk' as unknown as Uint8Array, bytes(16), 'initiator')).toThrow(badInput);
    expect(() => deriveSessionKeys(bytes(64), 'sid' as unknown as Uint8Array, 'initiator')).toThrow(badInput);
    expect(deriveSessionKeys(bytes(32), bytes(1), 'initiator').initiatorChain).toHaveLength(32);
  });

  it('a chain step wants a 32-byte chain key', () => {
    for (const chain of [bytes(31), bytes(33), 'chain' as unknown as Uint8Array]) {
      expect(() => chainStep(chain)).toThrow(badInput);
    }
    const step = chainStep(bytes(32));
    expect(step.messageKey).toHaveLength(32);
    expect(step.nextChain).toHaveLength(32);
  });

  it('the AEAD wants a 32-byte key and a safe, non-negative seq', async () => {
    const ad = messageHeader(1);
    await expect(sealOnce(bytes(16), 1, ad, bytes(32))).rejects.toEqual(badInput);
    await expect(sealOnce('key' as unknown as Uint8Array, 1, ad, bytes(32))).rejects.toEqual(badInput);
    for (const seq of [-1, 0.5, 2 ** 53]) {
      await expect(sealOnce(bytes(32), seq, ad, bytes(32)), String(seq)).rejects.toEqual(badInput);
      await expect(openOnce(bytes(32), seq, ad, bytes(48)), String(seq)).rejects.toEqual(badInput);
    }
    await expect(openOnce(bytes(31), 1, ad, bytes(48))).rejects.toEqual(badInput);
  });

  it('the AEAD nonce is the full 8-byte seq: seq 2^32 and seq 0 differ', async () => {
    const sealed = concatBytes(...(await sealOnce(bytes(32), 2 ** 32, messageHeader(0), bytes(32))));
    await expect(openOnce(bytes(32), 0, messageHeader(0), sealed)).rejects.toEqual(
      expect.objectContaining({ code: 'tampered' }),
    );
    expect(await openOnce(bytes(32), 2 ** 32, messageHeader(0), sealed)).toEqual(bytes(32));
  });

  it('a passphrase must be a string that is not empty after NFKC', () => {
    expect(() => checkPassphrase('')).toThrow(badInput);
    expect(() => checkPassphrase(42 as unknown as string)).toThrow(badInput);
    expect(() => checkPassphrase(' ')).not.toThrow();
    expect(passwordRelatedString('\ufb01')).toEqual(new TextEncoder().encode('fi'));
  });

  it('the session id is the first 16 bytes of the hash', () => {
    expect(sessionId(bytes(16), bytes(16), bytes(16))).toHaveLength(16);
  });

  describe('AEAD keys', () => {
    afterEach(() => vi.restoreAllMocks());

    it('are imported non-extractable, for one usage, and the raw copy is wiped', async () => {
      const importKey = vi.spyOn(globalThis.crypto.subtle, 'importKey');
      const key = bytes(32);
      const sealed = concatBytes(...(await sealOnce(key, 1, messageHeader(1), bytes(32))));
      await openOnce(bytes(32), 1, messageHeader(1), sealed);
      expect(importKey.mock.calls.map((call) => [call[0], call[2], call[3], call[4]])).toEqual([
        ['raw', 'AES-GCM', false, ['encrypt']],
        ['raw', 'AES-GCM', false, ['decrypt']],
      ]);
      for (const call of importKey.mock.calls) expect(toZero(call[1] as Uint8Array)).toBe(true);
      expect(toZero(key)).toBe(true);
    });
  });
});

const toZero = (bytes: Uint8Array) => bytes.every((byte) => byte === 0);
