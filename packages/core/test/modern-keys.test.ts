/**
 * The `modern` key schedule, each function checked against WebCrypto's own HKDF and HMAC, so a
 * swapped salt, label or input fails here rather than only in a pair of our own sides.
 */
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8Encode } from '../src/bytes.ts';
import {
  advanceChain,
  chainStep,
  deriveSessionKeys,
  frameMac,
  frameMacValid,
  rootStep,
} from '../src/crypto/modern-keys.ts';
import { ISK, SID } from './ratchet-pair.ts';

const subtle = globalThis.crypto.subtle;

async function webHmac(key: Uint8Array, data: Uint8Array): Promise<string> {
  const k = await subtle.importKey('raw', key.slice(), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return toHex(new Uint8Array(await subtle.sign('HMAC', k, data.slice())));
}

async function webHkdf(ikm: Uint8Array, salt: Uint8Array, info: string, bits: number): Promise<string> {
  const k = await subtle.importKey('raw', ikm.slice(), 'HKDF', false, ['deriveBits']);
  const params = { name: 'HKDF', hash: 'SHA-256', salt: salt.slice(), info: utf8Encode(info) };
  return toHex(new Uint8Array(await subtle.deriveBits(params, k, bits)));
}

describe('modern key schedule (checked against WebCrypto HKDF and HMAC)', () => {
  it('derives each first secret with HKDF-SHA-256(ISK, salt = sid) under its own label', async () => {
    const keys = deriveSessionKeys(ISK, SID, 'responder');
    expect(keys.role).toBe('responder');
    const labels = {
      root: 'duet/v2/root',
      initiatorChain: 'duet/v2/initiator/chain',
      initiatorHeader: 'duet/v2/initiator/header',
      initiatorNext: 'duet/v2/initiator/next-header',
      responderHeader: 'duet/v2/responder/header',
      initiatorRatchet: 'duet/v2/initiator/ratchet-key',
    } as const;
    for (const [name, label] of Object.entries(labels)) {
      expect(toHex(keys[name as keyof typeof labels]), name).toBe(await webHkdf(ISK, SID, label, 256));
    }
    const values = Object.keys(labels).map((name) => toHex(keys[name as keyof typeof labels]));
    expect(new Set(values).size).toBe(values.length);
    expect(toHex(deriveSessionKeys(ISK, SID, 'initiator').root)).toBe(toHex(keys.root));
  });

  it('KDF_RK: HKDF-SHA-256(salt = root, IKM = DH output, "duet/v2/ratchet") → root ‖ chain ‖ next header key', async () => {
    const root = new Uint8Array(32).fill(1);
    const dh = new Uint8Array(32).fill(2);
    const out = rootStep(root, dh);
    expect(toHex(concatBytes(out.root, out.chain, out.nextHeader))).toBe(
      await webHkdf(dh, root, 'duet/v2/ratchet', 768),
    );
  });

  it('KDF_CK: message key = HMAC(chain, 01), next chain = HMAC(chain, 02); the chain is left as it was', async () => {
    const chain = new Uint8Array(32).fill(3);
    const step = chainStep(chain);
    expect(toHex(step.messageKey)).toBe(await webHmac(chain, Uint8Array.of(1)));
    expect(toHex(step.nextChain)).toBe(await webHmac(chain, Uint8Array.of(2)));
    expect(toHex(advanceChain(chain))).toBe(toHex(step.nextChain));
    expect(chain.every((b) => b === 3)).toBe(true);
  });

  it('the frame MAC is HMAC-SHA-256(header key, header ‖ ciphertext) cut to 16 bytes, checked whole', async () => {
    const key = new Uint8Array(32).fill(4);
    const header = fromHex('0201100a0b0c');
    const ciphertext = fromHex('55'.repeat(48));
    const mac = frameMac(key, header, ciphertext);
    expect(toHex(mac)).toBe((await webHmac(key, concatBytes(header, ciphertext))).slice(0, 32));
    expect(frameMacValid(key, header, ciphertext, mac)).toBe(true);
    const wrong = mac.slice();
    wrong[15] = (wrong[15] ?? 0) ^ 1;
    expect(frameMacValid(key, header, ciphertext, wrong)).toBe(false);
    expect(frameMacValid(key, header, ciphertext, mac.subarray(0, 15))).toBe(false);
    expect(frameMacValid(key, ciphertext, header, mac)).toBe(false);
  });

  it('checks its inputs', () => {
    const badInput = expect.objectContaining({ code: 'bad-input' });
    expect(() => deriveSessionKeys(new Uint8Array(31), SID, 'initiator')).toThrow(badInput);
    expect(() => deriveSessionKeys(ISK, new Uint8Array(0), 'initiator')).toThrow(badInput);
    expect(() => rootStep(new Uint8Array(31), new Uint8Array(32))).toThrow(badInput);
    expect(() => rootStep(new Uint8Array(32), new Uint8Array(33))).toThrow(badInput);
    expect(() => chainStep(new Uint8Array(16))).toThrow(badInput);
    expect(() => advanceChain(new Uint8Array(16))).toThrow(badInput);
    expect(() => frameMac(new Uint8Array(31), new Uint8Array(1), new Uint8Array(1))).toThrow(badInput);
  });
});
