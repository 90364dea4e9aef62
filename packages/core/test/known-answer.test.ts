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
import { ristretto255, ristretto255_hasher, x25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { modernSession, textsFrom, type ModernSessionFixture } from './known-answer/modern-session.ts';

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
    expect(fresh.sessionKeys, REGENERATE).toEqual(fixture.sessionKeys);
    expect(fresh.steps, REGENERATE).toEqual(fixture.steps);
    expect(fresh.safetyCode, REGENERATE).toEqual(fixture.safetyCode);
    expect(fresh.frames, REGENERATE).toEqual(fixture.frames);
    expect(fresh, REGENERATE).toEqual(fixture);
  });
});

describe('known answers: the committed transcript follows docs/security.md', () => {
  const { inputs, cpace, confirmation, sessionKeys, steps } = fixture;
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
      'initiator message',
    ]);
    expect(inputs.turns.map((turn) => turn.from)).toEqual(['initiator', 'responder', 'initiator']);
    const texts = (from: 'initiator' | 'responder') =>
      textsFrom(from).map((text) => ({ type: 'message', text }));
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
    expect(toHex(frame(0))).toBe(`020101${u32(inputs.attempt)}${fixture.random.initiator[0]}`);
    expect(toHex(frame(1))).toBe(`020101${u32(inputs.attempt)}${fixture.random.responder[0]}`);
    expect(fixture.random.initiator[0]).toHaveLength(32);
    expect(fixture.random.responder[0]).toHaveLength(32);
  });

  it('PRS, CI and sid (lv_cat of the relay nonce, then the initiator nonce, then the responder nonce)', () => {
    expect(cpace.PRS).toBe(toHex(utf8(inputs.passphrase.normalize('NFKC'))));
    expect(cpace.PRS).not.toBe(toHex(utf8(inputs.passphrase))); // the fixture exercises NFKC
    expect(cpace.CI).toBe(toHex(lvCat(utf8('duet/v2'), utf8('modern'), utf8(inputs.room))));
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
    expect(toHex(frame(2))).toBe(`020102${u32(inputs.attempt)}${cpace.Ya}11${cpace.ADa}`);
    expect(toHex(frame(3))).toBe(`020103${u32(inputs.attempt)}${cpace.Yb}11${cpace.ADb}${confirmation.Tb}`);
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
    expect(toHex(frame(4))).toBe(`020104${u32(inputs.attempt)}${confirmation.Ta}`);
  });

  it('the Double Ratchet first secrets: HKDF-SHA-256(ISK, salt = sid) under a label each; the initiator first ratchet key', async () => {
    const labels = {
      root: 'root',
      initiatorChain: 'initiator/chain',
      initiatorHeader: 'initiator/header',
      initiatorNext: 'initiator/next-header',
      responderHeader: 'responder/header',
      initiatorRatchet: 'initiator/ratchet-key',
    } as const;
    for (const [name, label] of Object.entries(labels)) {
      const value = sessionKeys[name as keyof typeof labels];
      expect(value, name).toBe(await hkdf(hex(cpace.ISK), hex(cpace.sid), `duet/v2/${label}`));
    }
    expect(new Set(Object.values(sessionKeys)).size).toBe(7);
    expect(sessionKeys.initiatorRatchetPublic).toBe(
      toHex(x25519.getPublicKey(hex(sessionKeys.initiatorRatchet))),
    );
  });

  it('one DH ratchet step per turn change: a new key pair from a random draw, X25519 with the partner latest key, KDF_RK = HKDF-SHA-256(salt = root, IKM = DH output, "duet/v2/ratchet")', async () => {
    // The responder's first frame ratchets on the initiator's first key; then each turn change
    // ratchets on the partner's key of the step before.
    expect(steps.map((step) => step.by)).toEqual(['responder', 'initiator']);
    const privates = { initiator: [sessionKeys.initiatorRatchet], responder: [] as string[] };
    let remote = sessionKeys.initiatorRatchetPublic;
    let root = sessionKeys.root;
    for (const [i, step] of steps.entries()) {
      const other = step.by === 'initiator' ? 'responder' : 'initiator';
      // The k-th 32-byte draw of its side (after the 16-byte nonce and the 64-byte scalar).
      const draws = fixture.random[step.by].filter((draw) => draw.length === 64);
      expect(step.private, `step ${i}`).toBe(
        draws[privates[step.by].length - (step.by === 'initiator' ? 1 : 0)],
      );
      expect(step.public).toBe(toHex(x25519.getPublicKey(hex(step.private))));
      expect(step.remote).toBe(remote);
      expect(step.dhOutput).toBe(toHex(x25519.getSharedSecret(hex(step.private), hex(remote))));
      // The receiving half: the partner gets the same output from its own latest private key.
      const partnerPrivate = privates[other].at(-1) ?? '';
      expect(toHex(x25519.getSharedSecret(hex(partnerPrivate), hex(step.public)))).toBe(step.dhOutput);
      expect(step.rootBefore).toBe(root);
      const out = await hkdfBytes(hex(step.dhOutput), hex(root), 'duet/v2/ratchet', 96);
      expect([step.root, step.chain, step.nextHeader]).toEqual([
        out.slice(0, 64),
        out.slice(64, 128),
        out.slice(128),
      ]);
      privates[step.by].push(step.private);
      remote = step.public;
      root = step.root;
    }
  });

  it('every message frame: header ‖ AES-256-GCM ‖ MAC, under the keys of its chain, and it opens to its text', async () => {
    // Each side's sending chains, in order: the initiator's first comes from the ISK, every other
    // from a DH step; a chain's header key is the sender's next header key of the step before
    // (docs/security.md: NHKs), starting from initiatorNext and responderHeader.
    const chainsOf = (from: 'initiator' | 'responder') => {
      const made = steps.filter((step) => step.by === from);
      let header = from === 'initiator' ? sessionKeys.initiatorNext : sessionKeys.responderHeader;
      const chains = made.map((step) => {
        const chain = { dh: step.public, key: step.chain, header };
        header = step.nextHeader;
        return chain;
      });
      if (from === 'initiator')
        chains.unshift({
          dh: sessionKeys.initiatorRatchetPublic,
          key: sessionKeys.initiatorChain,
          header: sessionKeys.initiatorHeader,
        });
      return chains;
    };
    const messageFrames = fixture.frames.flatMap((f, index) => (f.type === 'message' ? [index] : []));
    expect(fixture.messages.map((m) => m.frame)).toEqual(messageFrames);
    for (const from of ['initiator', 'responder'] as const) {
      const records = fixture.messages.filter((m) => m.from === from);
      expect(records.map((m) => m.text)).toEqual(textsFrom(from));
      const chains = chainsOf(from);
      let chainIndex = -1;
      let chain = '';
      let sentOnPrevious = 0;
      let n = 0;
      for (const record of records) {
        if (chainIndex < 0 || chains[chainIndex]?.dh !== record.dh) {
          sentOnPrevious = chainIndex < 0 ? 0 : n;
          chainIndex += 1;
          chain = chains[chainIndex]?.key ?? '';
          n = 0;
        }
        const current = chains[chainIndex]!;
        expect([record.dh, record.pn, record.n]).toEqual([current.dh, sentOnPrevious, n]);
        expect([record.chainKey, record.headerKey]).toEqual([chain, current.header]);
        const key = hmac(sha256, hex(chain), Uint8Array.of(1));
        expect(record.messageKey).toBe(toHex(key));
        chain = toHex(hmac(sha256, hex(chain), Uint8Array.of(2)));
        n += 1;

        const bytes = frame(record.frame);
        const header = `020110${record.dh}${u32(record.pn)}${u32(record.n)}`;
        expect(toHex(bytes.subarray(0, 43))).toBe(header);
        const sealed = bytes.subarray(43, bytes.length - 16);
        const mac = toHex(
          hmac(sha256, hex(record.headerKey), bytes.subarray(0, bytes.length - 16)).slice(0, 16),
        );
        expect(toHex(bytes.subarray(bytes.length - 16))).toBe(mac);
        expect(record.mac).toBe(mac);
        const padded = await aesGcmOpen(key, record.n, bytes.subarray(0, 43), sealed);
        const text = utf8(record.text);
        const bucket = [32, 64, 128].find((size) => size > text.length);
        expect(toHex(padded)).toBe(toHex(text) + '80' + '00'.repeat((bucket ?? 0) - text.length - 1));
      }
      expect(chainIndex).toBe(chains.length - 1); // every chain carried a message
    }
  });

  it('the safety code: the first 55 bits of HKDF-SHA-256(ISK, sid, "duet/safety-code") as 11-bit word indices, on both pages', async () => {
    const bits = BigInt(`0x${await hkdf(hex(cpace.ISK), hex(cpace.sid), 'duet/safety-code')}`) >> 201n;
    const expected = [44n, 33n, 22n, 11n, 0n].map((shift) => Number((bits >> shift) & 0x7ffn));
    expect(fixture.safetyCode).toEqual(expected);
    for (const role of ['initiator', 'responder'] as const)
      expect(fixture.effects[role]).toContainEqual({ type: 'ready', safetyCode: expected });
  });

  it('a message does not open under another chain, and its MAC fails under another header key', async () => {
    const [first, , reply] = fixture.messages;
    if (first === undefined || reply === undefined) throw new Error('too few messages in the fixture');
    const bytes = frame(reply.frame);
    const wrongKey = hmac(sha256, hex(first.chainKey), Uint8Array.of(1));
    await expect(
      aesGcmOpen(wrongKey, reply.n, bytes.subarray(0, 43), bytes.subarray(43, bytes.length - 16)),
    ).rejects.toThrow();
    const wrongMac = hmac(sha256, hex(first.headerKey), bytes.subarray(0, bytes.length - 16)).slice(0, 16);
    expect(toHex(wrongMac)).not.toBe(reply.mac);
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
  return hkdfBytes(ikm, salt, info, 32);
}

/** HKDF-SHA-256 through WebCrypto, `length` bytes, as hex. */
async function hkdfBytes(
  ikm: Uint8Array<ArrayBuffer>,
  salt: Uint8Array<ArrayBuffer>,
  info: string,
  length: number,
): Promise<string> {
  const key = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt, info: utf8(info) },
    key,
    8 * length,
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
