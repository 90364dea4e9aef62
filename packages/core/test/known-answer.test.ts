/**
 * Known-answer transcript of a whole `modern` session (test/fixtures/modern-session.json, made by
 * `npm run fixtures`; test/fixtures/README.md says how and when to regenerate it).
 *
 * Two kinds of check:
 * 1. The code reproduces the committed transcript byte for byte. A change in the order of the
 *    frames or of the random draws, in a label, in which side uses which nonce or chain, fails.
 * 2. The committed transcript follows docs/security.md, recomputed here from @noble and WebCrypto
 *    directly, not through src/crypto: mistakes both sides would make the same way (and that two
 *    Duet clients would therefore never notice) show up here as a disagreement with the spec.
 */
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { modernSession, type ModernSessionFixture } from './known-answer/modern-session.ts';

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/modern-session.json', import.meta.url), 'utf8'),
) as ModernSessionFixture;

const REGENERATE =
  'the modern session no longer matches test/fixtures/modern-session.json; if the protocol change is ' +
  'deliberate, run `npm run fixtures` and review the diff (test/fixtures/README.md)';

describe('known answers: a whole modern session with fixed randomness', () => {
  it('the code reproduces the committed transcript byte for byte', async () => {
    const fresh = await modernSession();
    // Section by section first, so that a failure names the first part that moved.
    expect(fresh.random, REGENERATE).toEqual(fixture.random);
    expect(
      fresh.frames.map((f) => `${f.from} ${f.type}`),
      REGENERATE,
    ).toEqual(fixture.frames.map((f) => `${f.from} ${f.type}`));
    expect(fresh.cpace, REGENERATE).toEqual(fixture.cpace);
    expect(fresh.confirmation, REGENERATE).toEqual(fixture.confirmation);
    expect(fresh.chains, REGENERATE).toEqual(fixture.chains);
    expect(fresh.safetyCode, REGENERATE).toEqual(fixture.safetyCode);
    expect(fresh.frames, REGENERATE).toEqual(fixture.frames);
    expect(fresh, REGENERATE).toEqual(fixture);
  });
});

describe('known answers: the committed transcript follows docs/security.md', () => {
  const { inputs, cpace, confirmation, chains } = fixture;
  const frame = (i: number) => hex(fixture.frames[i]?.hex ?? '');

  it('has the documented frames, in order, and the documented effects', () => {
    expect(fixture.frames.map((f) => `${f.from} ${f.type}`)).toEqual([
      'initiator hello',
      'responder hello',
      'initiator cpace-a',
      'responder cpace-b',
      'initiator confirm',
      'initiator message',
      'initiator message',
      'responder message',
      'responder message',
    ]);
    const texts = (from: 'initiator' | 'responder') =>
      inputs.messages[from].map((text) => ({ type: 'message', text }));
    expect(fixture.effects.initiator).toEqual([
      { type: 'request-handshake' },
      { type: 'ready', safetyCode: fixture.safetyCode },
      ...texts('responder'),
    ]);
    expect(fixture.effects.responder).toEqual([
      { type: 'ready', safetyCode: fixture.safetyCode },
      ...texts('initiator'),
    ]);
  });

  it('each hello carries the attempt and its sender first random draw', () => {
    expect(toHex(frame(0))).toBe(`010101${u32(inputs.attempt)}${fixture.random.initiator[0]}`);
    expect(toHex(frame(1))).toBe(`010101${u32(inputs.attempt)}${fixture.random.responder[0]}`);
    expect(fixture.random.initiator[0]).toHaveLength(32);
    expect(fixture.random.responder[0]).toHaveLength(32);
  });

  it('PRS, CI and sid (lv_cat of the relay nonce, then the initiator nonce, then the responder nonce)', () => {
    expect(cpace.PRS).toBe(toHex(utf8(inputs.passphrase.normalize('NFKC'))));
    expect(cpace.PRS).not.toBe(toHex(utf8(inputs.passphrase))); // the fixture exercises NFKC
    expect(cpace.CI).toBe(toHex(lvCat(utf8('duet/v1'), utf8('modern'), utf8(inputs.room))));
    const nonces = [inputs.relayNonce, fixture.random.initiator[0], fixture.random.responder[0]].map((n) =>
      hex(n ?? ''),
    );
    expect(cpace.sid).toBe(toHex(sha512(lvCat(utf8('duet/sid'), ...nonces)).slice(0, 16)));
  });

  it('the generator, the scalars and the shares (draft §8.3, ristretto255)', () => {
    const dsi = utf8('CPaceRistretto255');
    const prs = hex(cpace.PRS);
    const zpad = new Uint8Array(Math.max(0, 128 - 1 - prependLen(prs).length - prependLen(dsi).length));
    const generatorString = lvCat(dsi, prs, zpad, hex(cpace.CI), hex(cpace.sid));
    const g = ristretto255_hasher.deriveToCurve!(sha512(generatorString));
    expect(cpace.g).toBe(g.toHex());
    const order = ristretto255.Point.Fn.ORDER;
    const scalar = (draw: string | undefined) => bytesToNumberLE(hex(draw ?? '')) % order;
    expect(bytesToNumberLE(hex(cpace.ya))).toBe(scalar(fixture.random.initiator[1]));
    expect(bytesToNumberLE(hex(cpace.yb))).toBe(scalar(fixture.random.responder[1]));
    expect(cpace.Ya).toBe(g.multiply(bytesToNumberLE(hex(cpace.ya))).toHex());
    expect(cpace.Yb).toBe(g.multiply(bytesToNumberLE(hex(cpace.yb))).toHex());
    expect(cpace.ADa).toBe(toHex(utf8('duet/ad/initiator')));
    expect(cpace.ADb).toBe(toHex(utf8('duet/ad/responder')));
    // cpace-a: header, attempt, Ya, len, ADa; cpace-b: the same for B, then Tb.
    expect(toHex(frame(2))).toBe(`010102${u32(inputs.attempt)}${cpace.Ya}11${cpace.ADa}`);
    expect(toHex(frame(3))).toBe(`010103${u32(inputs.attempt)}${cpace.Yb}11${cpace.ADb}${confirmation.Tb}`);
  });

  it('K, transcript_ir and ISK (draft §7.2, appendix A.3.4)', () => {
    const Ya = ristretto255.Point.fromHex(cpace.Ya);
    const Yb = ristretto255.Point.fromHex(cpace.Yb);
    const k = Yb.multiply(bytesToNumberLE(hex(cpace.ya)));
    expect(cpace.K).toBe(k.toHex());
    expect(cpace.K).toBe(Ya.multiply(bytesToNumberLE(hex(cpace.yb))).toHex());
    const transcript = concat(lvCat(hex(cpace.Ya), hex(cpace.ADa)), lvCat(hex(cpace.Yb), hex(cpace.ADb)));
    expect(cpace.transcript_ir).toBe(toHex(transcript));
    const isk = sha512(
      concat(lvCat(utf8('CPaceRistretto255_ISK'), hex(cpace.sid), hex(cpace.K)), transcript),
    );
    expect(cpace.ISK).toBe(toHex(isk));
  });

  it('the confirmation key and both tags (draft §10.4): Tb in cpace-b, Ta in confirm', () => {
    const macKey = sha512(concat(utf8('CPaceMac'), hex(cpace.sid), hex(cpace.ISK)));
    expect(confirmation.macKey).toBe(toHex(macKey));
    expect(confirmation.Ta).toBe(toHex(hmac(sha512, macKey, lvCat(hex(cpace.Ya), hex(cpace.ADa)))));
    expect(confirmation.Tb).toBe(toHex(hmac(sha512, macKey, lvCat(hex(cpace.Yb), hex(cpace.ADb)))));
    expect(confirmation.Ta).not.toBe(confirmation.Tb);
    expect(toHex(frame(4))).toBe(`010104${u32(inputs.attempt)}${confirmation.Ta}`);
  });

  it('one HKDF-SHA-256 chain per direction, named by the side that sends on it', async () => {
    expect(chains.initiator).toBe(await hkdf(hex(cpace.ISK), hex(cpace.sid), 'duet/chain/initiator'));
    expect(chains.responder).toBe(await hkdf(hex(cpace.ISK), hex(cpace.sid), 'duet/chain/responder'));
  });

  it('the safety code: the first 55 bits of HKDF-SHA-256(ISK, sid, "duet/safety-code") as 11-bit word indices, on both pages', async () => {
    const bits = BigInt(`0x${await hkdf(hex(cpace.ISK), hex(cpace.sid), 'duet/safety-code')}`) >> 201n;
    const expected = [44n, 33n, 22n, 11n, 0n].map((shift) => Number((bits >> shift) & 0x7ffn));
    expect(fixture.safetyCode).toEqual(expected);
    for (const role of ['initiator', 'responder'] as const)
      expect(fixture.effects[role]).toContainEqual({ type: 'ready', safetyCode: expected });
  });

  it('the first two messages each way open under their sender chain, seq 0 then 1', async () => {
    for (const from of ['initiator', 'responder'] as const) {
      const records = fixture.messages.filter((m) => m.from === from);
      expect(records.map((m) => m.seq)).toEqual([0, 1]);
      expect(records.map((m) => m.text)).toEqual(inputs.messages[from]);
      let chain = hex(chains[from]);
      for (const record of records) {
        const key = hmac(sha256, chain, Uint8Array.of(1));
        chain = hmac(sha256, chain, Uint8Array.of(2));
        expect(record.messageKey).toBe(toHex(key));
        const bytes = frame(record.frame);
        expect(toHex(bytes.subarray(0, 11))).toBe(`010110${record.seq.toString(16).padStart(16, '0')}`);
        const padded = await aesGcmOpen(key, record.seq, bytes.subarray(0, 11), bytes.subarray(11));
        const text = utf8(record.text);
        const bucket = [32, 64, 128].find((size) => size > text.length);
        expect(toHex(padded)).toBe(toHex(text) + '80' + '00'.repeat((bucket ?? 0) - text.length - 1));
      }
    }
  });

  it('a message does not open under the other direction chain', async () => {
    const [first] = fixture.messages;
    if (first === undefined) throw new Error('no messages in the fixture');
    const other = first.from === 'initiator' ? chains.responder : chains.initiator;
    const bytes = frame(first.frame);
    const wrongKey = hmac(sha256, hex(other), Uint8Array.of(1));
    await expect(
      aesGcmOpen(wrongKey, first.seq, bytes.subarray(0, 11), bytes.subarray(11)),
    ).rejects.toThrow();
  });
});

// Independent helpers: the spec's definitions, written out again on purpose (not src/crypto).

const utf8 = (text: string) => new TextEncoder().encode(text);
const toHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const u32 = (n: number) => n.toString(16).padStart(8, '0');

function hex(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(text.match(/../g) ?? [], (byte) => Number.parseInt(byte, 16));
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(parts.flatMap((part) => Array.from(part)));
}

/** draft-irtf-cfrg-cpace appendix A.1.1: LEB128 length, then the data. */
function prependLen(data: Uint8Array): Uint8Array {
  const length: number[] = [];
  let n = data.length;
  do {
    length.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return concat(Uint8Array.from(length), data);
}

function lvCat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return concat(...parts.map(prependLen));
}

async function hkdf(
  ikm: Uint8Array<ArrayBuffer>,
  salt: Uint8Array<ArrayBuffer>,
  info: string,
): Promise<string> {
  const key = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt, info: utf8(info) },
    key,
    256,
  );
  return toHex(new Uint8Array(bits));
}

async function aesGcmOpen(
  key: Uint8Array,
  seq: number,
  header: Uint8Array,
  sealed: Uint8Array,
): Promise<Uint8Array> {
  const iv = hex(`00000000${seq.toString(16).padStart(16, '0')}`);
  const cryptoKey = await crypto.subtle.importKey('raw', key.slice(), 'AES-GCM', false, ['decrypt']);
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv, additionalData: header.slice() },
    cryptoKey,
    sealed.slice(),
  );
  return new Uint8Array(plain);
}
