import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex } from '../src/bytes.ts';
import { isDuetError } from '../src/errors.ts';
import {
  CANCEL_REASONS,
  CHUNK_OVERHEAD_BYTES,
  chunkCount,
  decodeFileEnvelope,
  encodeFileEnvelope,
  encodeFileEnvelopeParts,
  MAX_NAME_BYTES,
  type FileEnvelope,
} from '../src/protocol/file-envelope.ts';

const ID = '00112233445566778899aabbccddeeff';
const id = fromHex(ID);

function codeOf(input: Uint8Array): string | undefined {
  try {
    decodeFileEnvelope(input);
    return undefined;
  } catch (error) {
    return isDuetError(error) ? error.code : 'not-a-duet-error';
  }
}

describe('file envelopes: exact bytes', () => {
  const cases: [string, FileEnvelope, string][] = [
    [
      'offer',
      { type: 'offer', id, size: 70000, chunkBytes: 61417, mime: 'image/png', name: 'cat é.png' },
      '0101' +
        ID +
        '0000000000011170' +
        '0000efe9' +
        '09' +
        '696d6167652f706e67' +
        '000a' +
        '63617420c3a92e706e67',
    ],
    ['accept', { type: 'accept', id, from: 3 }, '0102' + ID + '00000003'],
    ['chunk', { type: 'chunk', id, index: 258, bytes: fromHex('cafe') }, '0103' + ID + '00000102' + 'cafe'],
    ['empty chunk', { type: 'chunk', id, index: 0, bytes: new Uint8Array() }, '0103' + ID + '00000000'],
    ['ack', { type: 'ack', id, upTo: 2 }, '0104' + ID + '00000002'],
    ['end', { type: 'end', id, sha256: new Uint8Array(32).fill(0xab) }, '0105' + ID + 'ab'.repeat(32)],
    ['done', { type: 'done', id }, '0106' + ID],
    ['cancel', { type: 'cancel', id, reason: 'tampered' }, '0107' + ID + '04'],
  ];

  for (const [name, envelope, hex] of cases) {
    it(`encodes and decodes ${name} exactly`, () => {
      expect(toHex(encodeFileEnvelope(envelope))).toBe(hex);
      expect(decodeFileEnvelope(fromHex(hex))).toEqual(envelope);
    });
  }

  it('a chunk adds 22 bytes to its data', () => {
    expect(CHUNK_OVERHEAD_BYTES).toBe(22);
    expect(encodeFileEnvelope({ type: 'chunk', id, index: 0, bytes: new Uint8Array(100) }).length).toBe(122);
  });

  it('counts chunks: an empty file has none, the last one may be short', () => {
    expect([chunkCount(0, 10), chunkCount(1, 10), chunkCount(10, 10), chunkCount(11, 10)]).toEqual([
      0, 1, 1, 2,
    ]);
  });
});

describe('file envelopes: rejection', () => {
  it.each([
    ['empty', ''],
    ['a header without an id', '0101'],
    ['an unknown version', '0201' + ID + '00000003'],
    ['an unknown type', '0108' + ID],
    ['type 0', '0100' + ID],
    ['a short accept', '0102' + ID + '000003'],
    ['a long ack', '0104' + ID + '0000000200'],
    ['a short digest', '0105' + ID + 'ab'.repeat(31)],
    ['done with a body', '0106' + ID + '00'],
    ['an unknown cancel reason', '0107' + ID + '07'],
    ['cancel reason 0', '0107' + ID + '00'],
    ['a chunk without its index', '0103' + ID + '0000'],
    ['an offer too short', '0101' + ID + '00000000000000010000000100'],
    [
      'an offer whose name is longer than said',
      '0101' + ID + '0000000000000001' + '00000001' + '00' + '0002' + '61',
    ],
    [
      'an offer with bytes after the name',
      '0101' + ID + '0000000000000001' + '00000001' + '00' + '0001' + '6162',
    ],
    ['an offer with size above 2^53', '0101' + ID + 'ffffffffffffffff' + '00000001' + '00' + '0000'],
    ['an offer with chunk size 0', '0101' + ID + '0000000000000001' + '00000000' + '00' + '0000'],
    [
      'an offer with more than 2^32 − 1 chunks',
      '0101' + ID + '0000000100000000' + '00000001' + '00' + '0000',
    ],
    [
      'an offer whose name is not UTF-8',
      '0101' + ID + '0000000000000001' + '00000001' + '00' + '0001' + 'ff',
    ],
    [
      'an offer whose MIME type has a space',
      '0101' + ID + '0000000000000001' + '00000001' + '01' + '20' + '0000',
    ],
  ])('refuses %s as bad-frame', (_name, hex) => {
    expect(codeOf(fromHex(hex))).toBe('bad-frame');
  });

  it('refuses to encode what cannot travel', () => {
    const offer = { type: 'offer', id, size: 1, chunkBytes: 1, mime: '', name: 'a' } as const;
    const bad = (envelope: FileEnvelope) => () => encodeFileEnvelope(envelope);
    expect(bad({ ...offer, name: 'x'.repeat(MAX_NAME_BYTES + 1) })).toThrow(/name/);
    expect(bad({ ...offer, name: 'lone \ud800' })).toThrow(/name/);
    expect(bad({ ...offer, mime: 'text/plain; charset=utf-8' })).toThrow(/MIME/);
    expect(bad({ ...offer, size: -1 })).toThrow(/size/);
    expect(bad({ ...offer, chunkBytes: 0 })).toThrow(/chunk/);
    expect(bad({ type: 'ack', id: new Uint8Array(15), upTo: 0 })).toThrow(/id/);
    expect(bad({ type: 'ack', id, upTo: 2 ** 32 })).toThrow(/range/);
    expect(bad({ type: 'end', id, sha256: new Uint8Array(31) })).toThrow(/sha256/);
  });
});

describe('file envelopes: properties', () => {
  const b = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
  const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
  const envelope: fc.Arbitrary<FileEnvelope> = fc.oneof(
    fc
      .record({
        type: fc.constant('offer' as const),
        id: b(16),
        size: fc.maxSafeNat(),
        chunkBytes: fc.integer({ min: 1, max: 0xffff_ffff }),
        mime: fc.stringMatching(/^[\x21-\x7e]{0,40}$/),
        name: fc.string({ unit: 'grapheme', maxLength: 100 }),
      })
      .filter((o) => chunkCount(o.size, o.chunkBytes) <= 0xffff_ffff),
    fc.record({ type: fc.constant('accept' as const), id: b(16), from: u32 }),
    fc.record({
      type: fc.constant('chunk' as const),
      id: b(16),
      index: u32,
      bytes: fc.uint8Array({ maxLength: 300 }),
    }),
    fc.record({ type: fc.constant('ack' as const), id: b(16), upTo: u32 }),
    fc.record({ type: fc.constant('end' as const), id: b(16), sha256: b(32) }),
    fc.record({ type: fc.constant('done' as const), id: b(16) }),
    fc.record({
      type: fc.constant('cancel' as const),
      id: b(16),
      reason: fc.constantFrom(...CANCEL_REASONS),
    }),
  );

  it('encoded as parts, every envelope is the same bytes; a chunk keeps its bytes as a part of their own', () => {
    fc.assert(
      fc.property(envelope, (e) => {
        const parts = encodeFileEnvelopeParts(e);
        expect(toHex(concatBytes(...parts))).toBe(toHex(encodeFileEnvelope(e)));
        if (e.type === 'chunk') expect(parts[parts.length - 1]).toBe(e.bytes);
        else expect(parts).toHaveLength(1);
      }),
      { numRuns: 300 },
    );
  });

  it('every envelope round-trips through encode and decode', () => {
    fc.assert(
      fc.property(envelope, (e) => {
        expect(decodeFileEnvelope(encodeFileEnvelope(e))).toEqual(e);
      }),
      { numRuns: 500 },
    );
  });

  it('decoding random bytes throws nothing but DuetError bad-frame', () => {
    const prefixed = fc
      .tuple(fc.constantFrom(0, 1, 2), fc.integer({ min: 0, max: 8 }), b(16))
      .chain(([v, t, i]) =>
        fc.uint8Array({ maxLength: 80 }).map((rest) => Uint8Array.of(v, t, ...i, ...rest)),
      );
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 100 }), prefixed), (input) => {
        const code = codeOf(input);
        expect(code === undefined || code === 'bad-frame').toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
