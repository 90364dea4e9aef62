import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8Encode } from '../src/bytes.ts';
import { openOnce, sealOnce } from '../src/crypto/aead.ts';
import { messageHeader } from '../src/crypto/modern-frame.ts';
import { deriveChainKeys, ratchetStep } from '../src/crypto/modern-keys.ts';
import { createRatchet, MAX_SKIP } from '../src/session/ratchet.ts';

const subtle = globalThis.crypto.subtle;
const isk = fromHex('b69effbf61b51d56401c0f65601abe428de8206feaaf0e32198896dcae7b35cd'.repeat(2));
const sid = fromHex('00112233445566778899aabbccddeeff');

async function webHmac(key: Uint8Array, data: Uint8Array): Promise<string> {
  const k = await subtle.importKey('raw', key.slice(), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return toHex(new Uint8Array(await subtle.sign('HMAC', k, data.slice())));
}

async function webHkdf(info: string): Promise<string> {
  const k = await subtle.importKey('raw', isk.slice(), 'HKDF', false, ['deriveBits']);
  const params = { name: 'HKDF', hash: 'SHA-256', salt: sid.slice(), info: utf8Encode(info) };
  return toHex(new Uint8Array(await subtle.deriveBits(params, k, 256)));
}

describe('key schedule (checked against WebCrypto HKDF and HMAC)', () => {
  it('derives one chain key per direction with HKDF-SHA-256(ISK, salt = sid)', async () => {
    const chains = deriveChainKeys(isk, sid);
    expect(toHex(chains.initiator)).toBe(await webHkdf('duet/chain/initiator'));
    expect(toHex(chains.responder)).toBe(await webHkdf('duet/chain/responder'));
    expect(toHex(chains.initiator)).not.toBe(toHex(chains.responder));
  });

  it('steps the chain: message key = HMAC(chain, 01), next chain = HMAC(chain, 02)', async () => {
    const chain = deriveChainKeys(isk, sid).initiator;
    const before = toHex(chain);
    const step = ratchetStep(chain);
    expect(toHex(step.messageKey)).toBe(await webHmac(chain, Uint8Array.of(1)));
    expect(toHex(step.nextChain)).toBe(await webHmac(chain, Uint8Array.of(2)));
    expect(toHex(chain)).toBe(before); // the caller commits and wipes, not the step
  });
});

describe('AEAD: AES-256-GCM with a one-time key', () => {
  it('seals with nonce 00000000 ‖ seq and the header as associated data; consumes the key', async () => {
    const key = new Uint8Array(32).fill(7);
    const keyCopy = key.slice();
    const header = messageHeader(9);
    const sealed = await sealOnce(key, 9, header, utf8Encode('hello'));
    expect(key.every((b) => b === 0)).toBe(true);
    const web = await subtle.importKey('raw', keyCopy, 'AES-GCM', false, ['decrypt']);
    const iv = fromHex('000000000000000000000009');
    const plain = await subtle.decrypt(
      { name: 'AES-GCM', iv, additionalData: header.slice() },
      web,
      sealed.slice(),
    );
    expect(new TextDecoder().decode(plain)).toBe('hello');
  });

  it('refuses a wrong key, seq or associated data as tampered', async () => {
    const sealed = await sealOnce(new Uint8Array(32).fill(7), 1, messageHeader(1), utf8Encode('x'));
    const tampered = expect.objectContaining({ code: 'tampered' });
    await expect(openOnce(new Uint8Array(32).fill(8), 1, messageHeader(1), sealed)).rejects.toEqual(tampered);
    await expect(openOnce(new Uint8Array(32).fill(7), 2, messageHeader(1), sealed)).rejects.toEqual(tampered);
    await expect(openOnce(new Uint8Array(32).fill(7), 1, messageHeader(2), sealed)).rejects.toEqual(tampered);
    expect(await openOnce(new Uint8Array(32).fill(7), 1, messageHeader(1), sealed)).toEqual(utf8Encode('x'));
  });
});

describe('ratchet', () => {
  function pair() {
    const a = deriveChainKeys(isk, sid);
    const b = deriveChainKeys(isk, sid);
    return {
      alice: createRatchet({ send: a.initiator, receive: a.responder }),
      bob: createRatchet({ send: b.responder, receive: b.initiator }),
    };
  }

  it('uses a fresh key per message: the same text never gives the same frame', async () => {
    const { alice } = pair();
    const frames = new Set<string>();
    for (let i = 0; i < 20; i++) frames.add(toHex((await alice.seal('same')).subarray(11)));
    expect(frames.size).toBe(20);
  });

  it('erases its chain keys on destroy and refuses to go on', async () => {
    const keys = { send: new Uint8Array(32).fill(1), receive: new Uint8Array(32).fill(2) };
    const ratchet = createRatchet(keys);
    await ratchet.seal('one');
    ratchet.destroy();
    await expect(ratchet.seal('two')).rejects.toEqual(expect.objectContaining({ code: 'no-partner' }));
    expect(keys.receive.every((b) => b === 0)).toBe(true);
  });

  it('does not advance on a forged frame: the genuine one still opens', async () => {
    const { alice, bob } = pair();
    const frame = await alice.seal('genuine');
    expect(await bob.open(0, new Uint8Array(48), 0)).toEqual([{ type: 'warning', code: 'tampered' }]);
    expect(await bob.open(5, frame.subarray(11), 0)).toEqual([{ type: 'warning', code: 'tampered' }]);
    expect(await bob.open(0, frame.subarray(11), 0)).toEqual([{ type: 'message', text: 'genuine' }]);
    expect(await bob.open(0, frame.subarray(11), 0)).toEqual([{ type: 'warning', code: 'replayed' }]);
  });

  it('opens a frame exactly MAX_SKIP ahead of the next one expected, several messages in; refuses one further', async () => {
    const { alice, bob } = pair();
    const first = 3;
    for (let i = 0; i < first; i++) {
      expect(await bob.open(i, (await alice.seal(`#${i}`)).subarray(11))).toEqual([
        { type: 'message', text: `#${i}` },
      ]);
    }
    const dropped: Uint8Array[] = [];
    for (let i = 0; i < MAX_SKIP; i++) dropped.push(await alice.seal('dropped'));
    const edge = await alice.seal('at the edge');
    const beyond = await alice.seal('one further');
    // seq first + MAX_SKIP + 1 is more than MAX_SKIP ahead of `first`: refused without a key.
    expect(await bob.open(first + MAX_SKIP + 1, beyond.subarray(11))).toEqual([
      { type: 'warning', code: 'tampered' },
    ]);
    expect(await bob.open(first + MAX_SKIP, edge.subarray(11))).toEqual([
      { type: 'message', text: 'at the edge' },
    ]);
    // The skipped keys are gone: the dropped frames can never open, even late.
    expect(await bob.open(first, dropped[0]!.subarray(11))).toEqual([{ type: 'warning', code: 'replayed' }]);
    expect(await bob.open(first + MAX_SKIP + 1, beyond.subarray(11))).toEqual([
      { type: 'message', text: 'one further' },
    ]);
  });

  it('an authentic frame with bad padding or bad UTF-8 inside is refused as bad-frame, and the chain moves on', async () => {
    const keys = deriveChainKeys(isk, sid);
    const bob = createRatchet({ send: new Uint8Array(32).fill(9), receive: keys.initiator.slice() });
    let chain: Uint8Array = keys.initiator.slice();
    const sealRaw = async (seq: number, plaintext: Uint8Array) => {
      const step = ratchetStep(chain);
      chain = step.nextChain;
      return sealOnce(step.messageKey, seq, messageHeader(seq), plaintext);
    };
    expect(await bob.open(0, await sealRaw(0, new Uint8Array(32)))).toEqual([
      { type: 'warning', code: 'bad-frame' },
    ]);
    const notUtf8 = new Uint8Array(32);
    notUtf8.set([0xff, 0x80]);
    expect(await bob.open(1, await sealRaw(1, notUtf8))).toEqual([{ type: 'warning', code: 'bad-frame' }]);
    expect(await bob.open(1, await sealRaw(2, notUtf8))).toEqual([{ type: 'warning', code: 'replayed' }]);
    const fine = new Uint8Array(32);
    fine.set([0x6f, 0x6b, 0x80]);
    expect(await bob.open(3, await sealRaw(3, fine))).toEqual([{ type: 'message', text: 'ok' }]);
  });

  it('a destroyed ratchet opens nothing and wipes both chains', async () => {
    const keys = { send: new Uint8Array(32).fill(1), receive: new Uint8Array(32).fill(2) };
    const ratchet = createRatchet(keys);
    ratchet.destroy();
    expect(keys.send.every((b) => b === 0)).toBe(true);
    expect(await ratchet.open(0, new Uint8Array(48))).toEqual([]);
  });
});
