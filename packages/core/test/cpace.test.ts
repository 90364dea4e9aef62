import { readFileSync } from 'node:fs';
import { ristretto255 } from '@noble/curves/ed25519.js';
import { numberToBytesLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8Encode } from '../src/bytes.ts';
import {
  calculateGenerator,
  CPACE_DSI,
  CPACE_DSI_ISK,
  deriveIsk,
  generatorString,
  lexicographicallyLarger,
  lvCat,
  prependLen,
  sampleScalar,
  scalarMult,
  scalarMultVfy,
  sidOutput,
  transcriptIr,
  transcriptOc,
} from '../src/crypto/cpace.ts';

// Vectors: draft-irtf-cfrg-cpace appendix B.3 (ristretto255 + SHA-512), byte-identical copies in
// test/fixtures/cpace (see test/fixtures/README.md). A missing file fails the suite: readFileSync throws.
const fixture = (name: string) => readFileSync(new URL(`./fixtures/cpace/${name}`, import.meta.url), 'utf8');
const appendix = fixture('ristretto255-sha512.txt');
const allGroups = JSON.parse(fixture('testvectors.json')) as Record<string, Record<string, unknown>>;

/** Hex values of the JSON vectors, lower-cased. */
function hexRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) throw new Error('vector group missing');
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v).toLowerCase()]));
}

/**
 * Every "label: (length: N bytes)" block of the appendix text, keyed "section / label", with the
 * hex that follows it. Duplicated labels (two "ISK result") are told apart by their section.
 */
function appendixValues(text: string): Map<string, string> {
  const values = new Map<string, string>();
  const lines = text.split('\n');
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heading = /^#{2,}\s+(.*)$/.exec(line);
    if (heading) section = (heading[1] ?? '').replace(/\\/g, '').trim();
    const size = /\(length: (\d+) bytes\)/.exec(line);
    if (!size) continue;
    let label = line.slice(0, size.index).trim();
    if (label === '') label = (lines[i - 1] ?? '').trim();
    label = label.replace(/:$/, '').trim();
    let hex = '';
    for (let j = i + 1; hex.length < Number(size[1]) * 2; j++) {
      const more = (lines[j] ?? '').trim();
      if (!/^[0-9a-f]+$/.test(more)) throw new Error(`short hex block for ${label}`);
      hex += more;
    }
    values.set(`${section} / ${label}`, hex);
  }
  return values;
}

/** The base64 JSON blocks of the appendix ("#eyJ..." lines). */
function appendixJson(text: string): Record<string, string> {
  const base64 = text
    .split('\n')
    .filter((line) => /^\s+#/.test(line))
    .map((line) => line.trim().slice(1))
    .join('');
  const json = JSON.parse(new TextDecoder().decode(fromHex(base64ToHex(base64)))) as Record<string, unknown>;
  return hexRecord(json);
}

function base64ToHex(base64: string): string {
  return toHex(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
}

const v = hexRecord(allGroups['G_Coffee25519']);
const points = allGroups['G_Coffee25519_points'] ?? {};
const input = {
  prs: fromHex(v.PRS ?? ''),
  ci: fromHex(v.CI ?? ''),
  sid: fromHex(v.sid ?? ''),
  ya: fromHex(v.ya ?? ''),
  yb: fromHex(v.yb ?? ''),
  ada: fromHex(v.ADa ?? ''),
  adb: fromHex(v.ADb ?? ''),
};

/** What this implementation computes for each value the vectors give, by name. */
function computed(): Record<string, string> {
  const g = calculateGenerator(input.prs, input.ci, input.sid);
  const ya = scalarMult(input.ya, g);
  const yb = scalarMult(input.yb, g);
  const k = scalarMultVfy(input.ya, yb);
  const ir = transcriptIr(ya, input.ada, yb, input.adb);
  const oc = transcriptOc(ya, input.ada, yb, input.adb);
  const genString = generatorString(CPACE_DSI, input.prs, input.ci, input.sid);
  return {
    PRS: toHex(input.prs),
    CI: toHex(input.ci),
    sid: toHex(input.sid),
    g: toHex(g),
    ya: toHex(input.ya),
    yb: toHex(input.yb),
    ADa: toHex(input.ada),
    ADb: toHex(input.adb),
    Ya: toHex(ya),
    Yb: toHex(yb),
    K: toHex(k),
    'K from B': toHex(scalarMultVfy(input.yb, ya)),
    ISK_IR: toHex(deriveIsk(input.sid, k, ir)),
    ISK_SY: toHex(deriveIsk(input.sid, k, oc)),
    sid_output_ir: toHex(sidOutput(ir)),
    sid_output_oc: toHex(sidOutput(oc)),
    'generator string': toHex(genString),
    hash: toHex(sha512(genString)),
    'transcript ir': toHex(ir),
    'transcript oc': toHex(oc),
    'DSI ISK': toHex(CPACE_DSI_ISK),
    'ISK input ir': toHex(lvCat(CPACE_DSI_ISK, input.sid, k)) + toHex(ir),
    'ISK input oc': toHex(lvCat(CPACE_DSI_ISK, input.sid, k)) + toHex(oc),
  };
}

describe('CPace ristretto255/SHA-512: testvectors.json G_Coffee25519 (draft appendix B.3)', () => {
  // Computed inside each test, not while collecting them: mutation testing must see which test runs what.
  const ours = () => computed();
  const keys = Object.keys(v);

  it('has the vector group and every field this test knows', () => {
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(ours()).toHaveProperty(key);
  });

  for (const key of keys) {
    it(`reproduces ${key} byte for byte`, () => {
      expect(ours()[key]).toBe(v[key]);
    });
  }
});

describe('CPace ristretto255/SHA-512: the appendix text (ristretto255-sha512.txt)', () => {
  // Computed inside each test, not while collecting them: mutation testing must see which test runs what.
  const ours = () => computed();
  const labelled = appendixValues(appendix);
  /** Section / label in the appendix → the name in `computed()`. */
  const names: Record<string, string> = {
    'Test vectors for calculate_generator with group ristretto255 / generator_string(G.DSI,PRS,CI,sid,H.s_in_bytes)':
      'generator string',
    'Test vectors for calculate_generator with group ristretto255 / hash result': 'hash',
    'Test vectors for calculate_generator with group ristretto255 / encoded generator g': 'g',
    'Test vector for message from A / ya (little endian)': 'ya',
    'Test vector for message from A / Ya': 'Ya',
    'Test vector for message from B / yb (little endian)': 'yb',
    'Test vector for message from B / Yb': 'Yb',
    'Test vector for secret points K / scalar_mult_vfy(ya,Yb)': 'K',
    'Test vector for secret points K / scalar_mult_vfy(yb,Ya)': 'K from B',
    'Test vector for ISK calculation initiator/responder / transcript_ir(Ya,ADa,Yb,ADb)': 'transcript ir',
    "Test vector for ISK calculation initiator/responder / DSI = G.DSI_ISK, b'CPaceRistretto255_ISK'":
      'DSI ISK',
    'Test vector for ISK calculation initiator/responder / lv_cat(DSI,sid,K)||transcript_ir(Ya,ADa,Yb,ADb)':
      'ISK input ir',
    'Test vector for ISK calculation initiator/responder / ISK result': 'ISK_IR',
    'Test vector for ISK calculation parallel execution / transcript_oc(Ya,ADa,Yb,ADb)': 'transcript oc',
    "Test vector for ISK calculation parallel execution / DSI = G.DSI_ISK, b'CPaceRistretto255_ISK'":
      'DSI ISK',
    'Test vector for ISK calculation parallel execution / lv_cat(DSI,sid,K)||transcript_oc(Ya,ADa,Yb,ADb)':
      'ISK input oc',
    'Test vector for ISK calculation parallel execution / ISK result': 'ISK_SY',
    'Test vector for optional output of session id / H.hash(b"CPaceSidOutput" + transcript_ir(Ya,ADa, Yb,ADb))':
      'sid_output_ir',
    'Test vector for optional output of session id / H.hash(b"CPaceSidOutput" + transcript_oc(Ya,ADa, Yb,ADb))':
      'sid_output_oc',
  };

  it('finds every labelled value, and knows every one it finds', () => {
    expect([...labelled.keys()].sort()).toEqual(Object.keys(names).sort());
  });

  for (const [label, name] of Object.entries(names)) {
    it(`reproduces ${label}`, () => {
      const expected = labelled.get(label);
      expect(expected).toBeDefined();
      expect(ours()[name]).toBe(expected);
    });
  }

  const json = appendixJson(appendix);
  const jsonNames: Record<string, () => string> = {
    H: () => 'sha-512',
    'H.s_in_bytes': () => '128',
    PRS: () => toHex(input.prs),
    'ZPAD length': () => String(128 - 1 - prependLen(input.prs).length - prependLen(CPACE_DSI).length),
    DSI: () => toHex(CPACE_DSI),
    CI: () => toHex(input.ci),
    sid: () => toHex(input.sid),
    'generator_string(G.DSI,PRS,CI,sid,H.s_in_bytes)': () => ours()['generator string'] ?? '',
    'hash result': () => ours().hash ?? '',
    'encoded generator g': () => ours().g ?? '',
  };

  it('decodes the embedded JSON and knows every field in it', () => {
    expect(Object.keys(json).sort()).toEqual(Object.keys(jsonNames).sort());
  });

  for (const [key, compute] of Object.entries(jsonNames)) {
    it(`reproduces the embedded JSON's ${key}`, () => {
      expect(compute()).toBe(json[key]);
    });
  }
});

describe('CPace ristretto255: scalar_mult_vfy on the G_Coffee25519_points cases (draft B.3.10, B.3.11)', () => {
  const cases = Object.entries(points);

  it('has cases to run', () => {
    expect(cases.map(([name]) => name).sort()).toEqual(['Invalid Y1', 'Invalid Y2', 'Valid']);
  });

  for (const [name, value] of cases) {
    if (typeof value === 'string') {
      it(`rejects ${name} as bad-point`, () => {
        const scalar = fromHex(hexRecord(points.Valid).s ?? '');
        expect(() => scalarMultVfy(scalar, fromHex(value))).toThrow(
          expect.objectContaining({ code: 'bad-point' }),
        );
      });
    } else {
      it(`computes ${name} exactly`, () => {
        const c = hexRecord(value);
        const product = toHex(scalarMultVfy(fromHex(c.s ?? ''), fromHex(c.X ?? '')));
        expect(product).toBe(c['G.scalar_mult_vfy(s,X)']);
        expect(toHex(scalarMult(fromHex(c.s ?? ''), fromHex(c.X ?? '')))).toBe(
          c['G.scalar_mult(s,decode(X))'],
        );
      });
    }
  }
});

describe('CPace string utilities (draft appendix A.1, A.3)', () => {
  it('prepend_len and lv_cat match the draft', () => {
    expect(toHex(prependLen(new Uint8Array(0)))).toBe('00');
    expect(toHex(prependLen(utf8Encode('1234')))).toBe('0431323334');
    expect(toHex(prependLen(Uint8Array.from({ length: 127 }, (_, i) => i))).slice(0, 4)).toBe('7f00');
    expect(toHex(prependLen(Uint8Array.from({ length: 128 }, (_, i) => i))).slice(0, 6)).toBe('800100');
    const parts = ['1234', '5', '', '678'].map((s) => utf8Encode(s));
    expect(toHex(lvCat(...parts))).toBe('043132333401350003363738');
  });

  it('prepend_len is LEB128 at every length, not only around 128', () => {
    const prefix = (length: number) =>
      toHex(prependLen(new Uint8Array(length))).slice(0, -2 * length || undefined);
    expect(prefix(1)).toBe('01');
    expect(prefix(129)).toBe('8101');
    expect(prefix(255)).toBe('ff01');
    expect(prefix(256)).toBe('8002');
    expect(prefix(300)).toBe('ac02');
    expect(prefix(16383)).toBe('ff7f');
    expect(prefix(16384)).toBe('808001');
    expect(prependLen(new Uint8Array(300)).length).toBe(302);
  });

  it('transcript_oc puts the larger block first, whichever party it belongs to', () => {
    const none = new Uint8Array(0);
    const [a, b] = [utf8Encode('a'), utf8Encode('b')];
    expect(toHex(transcriptOc(b, none, a, none))).toBe('6f63' + '016200' + '016100');
    expect(toHex(transcriptOc(a, none, b, none))).toBe('6f63' + '016200' + '016100');
    // The first differing byte decides, not the length: 02 6161 00 < 02 6162 00.
    expect(toHex(transcriptOc(utf8Encode('ab'), none, utf8Encode('aa'), utf8Encode('zz')))).toBe(
      '6f63' + '02616200' + '026161027a7a',
    );
  });

  it('lexiographically_larger: the first differing byte decides, and a prefix sorts first', () => {
    const larger = (a: string, b: string) => lexicographicallyLarger(fromHex(a), fromHex(b));
    // The draft's examples (appendix A.3): "\0" < "\0\0" < "\1", "\0\1" < "\1", "ABCD" < "BCD".
    expect(larger('00', '0000')).toBe(false);
    expect(larger('01', '0000')).toBe(true);
    expect(larger('0000', '00')).toBe(true);
    expect(larger('0000', '01')).toBe(false);
    expect(larger('0001', '01')).toBe(false);
    expect(larger('41424344', '424344')).toBe(false);
    // Equal bytes (and two empty strings) are not larger; the decision can come late.
    expect(larger('0102', '0102')).toBe(false);
    expect(larger('', '')).toBe(false);
    expect(larger('', '00')).toBe(false);
    expect(larger('00', '')).toBe(true);
    expect(larger('010203', '010204')).toBe(false);
    expect(larger('010204', '010203')).toBe(true);
  });

  it('transcript_ir and transcript_oc match the draft', () => {
    const [a, pa, b, pb] = ['123', 'PartyA', '234', 'PartyB'].map((s) => utf8Encode(s)) as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
    ];
    expect(toHex(transcriptIr(a, pa, b, pb))).toBe('03313233065061727479410332333406506172747942');
    expect(toHex(transcriptOc(a, pa, b, pb))).toBe('6f6303323334065061727479420331323306506172747941');
  });
});

describe('CPace scalars and points', () => {
  it('samples scalars in [1, order) and retries on zero', () => {
    const zeroThenOnes = [new Uint8Array(64), new Uint8Array(64).fill(1)];
    const scalar = sampleScalar((n) => zeroThenOnes.shift() ?? new Uint8Array(n));
    expect(scalar.length).toBe(32);
    expect(scalar.some((byte) => byte !== 0)).toBe(true);
  });

  it('refuses a scalar equal to the group order, takes order − 1', () => {
    const g = calculateGenerator(input.prs, input.ci, input.sid);
    const order = ristretto255.Point.Fn.ORDER;
    expect(() => scalarMult(numberToBytesLE(order, 32), g)).toThrow(
      expect.objectContaining({ code: 'bad-input' }),
    );
    expect(() => scalarMultVfy(numberToBytesLE(order, 32), g)).toThrow(
      expect.objectContaining({ code: 'bad-input' }),
    );
    // (order − 1)·g = −g: the same point with the sign flipped, so not g and not the identity.
    expect(toHex(scalarMult(numberToBytesLE(order - 1n, 32), g))).toBe(
      ristretto255.Point.fromBytes(g).negate().toHex(),
    );
    expect(() => scalarMult(new Uint8Array(31).fill(1), g)).toThrow(
      expect.objectContaining({ code: 'bad-input' }),
    );
    expect(() => scalarMult('1' as unknown as Uint8Array, g)).toThrow(
      expect.objectContaining({ code: 'bad-input' }),
    );
  });

  it('refuses points that are not 32 bytes of a canonical encoding', () => {
    const scalar = numberToBytesLE(5n, 32);
    for (const point of [new Uint8Array(33), 'abc' as unknown as Uint8Array, new Uint8Array(32).fill(0xff)]) {
      expect(() => scalarMult(scalar, point)).toThrow(expect.objectContaining({ code: 'bad-point' }));
    }
  });

  it("checks a point's size itself, before @noble/curves decodes it", () => {
    const scalar = numberToBytesLE(5n, 32);
    const refusal = (point: Uint8Array) => {
      try {
        scalarMultVfy(scalar, point);
      } catch (error) {
        return error as { code?: string; cause?: unknown };
      }
      throw new Error('accepted');
    };
    // Our own check: no library error behind it. The library's refusal comes as the cause.
    for (const point of [new Uint8Array(31), new Uint8Array(33), 'a'.repeat(32) as unknown as Uint8Array]) {
      const error = refusal(point);
      expect(error.code).toBe('bad-point');
      expect(error.cause).toBeUndefined();
    }
    const error = refusal(new Uint8Array(32).fill(0xff));
    expect(error.code).toBe('bad-point');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('sample_scalar reduces modulo the order and checks its random source', () => {
    const order = ristretto255.Point.Fn.ORDER;
    // 64 bytes worth exactly order + 5: the scalar is 5.
    const wide = numberToBytesLE(order + 5n, 64);
    const used = wide.slice();
    expect(toHex(sampleScalar(() => used))).toBe(toHex(numberToBytesLE(5n, 32)));
    expect(used.every((byte) => byte === 0)).toBe(true); // the wide value is wiped
    // Exactly the order reduces to zero: drawn again.
    const draws = [numberToBytesLE(order, 64), numberToBytesLE(7n, 64)];
    expect(toHex(sampleScalar(() => draws.shift() ?? new Uint8Array(64)))).toBe(
      toHex(numberToBytesLE(7n, 32)),
    );
    expect(() => sampleScalar(() => new Uint8Array(63))).toThrow(
      expect.objectContaining({ code: 'bad-input' }),
    );
    expect(() => sampleScalar(() => Array(64).fill(1) as unknown as Uint8Array)).toThrow(
      expect.objectContaining({ code: 'bad-input' }),
    );
  });

  it('rejects a point of the wrong length and a zero scalar', () => {
    const g = calculateGenerator(input.prs, input.ci, input.sid);
    expect(() => scalarMultVfy(input.ya, g.subarray(1))).toThrow(
      expect.objectContaining({ code: 'bad-point' }),
    );
    expect(() => scalarMult(new Uint8Array(32), g)).toThrow(expect.objectContaining({ code: 'bad-input' }));
  });

  it('two sides with the same inputs agree on K; different passwords give different generators', () => {
    const random = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n));
    const g = calculateGenerator(input.prs, input.ci, input.sid);
    const [x, y] = [sampleScalar(random), sampleScalar(random)];
    expect(toHex(scalarMultVfy(x, scalarMult(y, g)))).toBe(toHex(scalarMultVfy(y, scalarMult(x, g))));
    const other = calculateGenerator(utf8Encode('Passwort'), input.ci, input.sid);
    expect(toHex(other)).not.toBe(toHex(g));
  });
});
