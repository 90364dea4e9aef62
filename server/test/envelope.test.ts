/** The envelopes relay nodes exchange over Redis (docs/scale-out.md): exact bytes, both ways. */
import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../src/envelope.ts';

describe('envelopes between nodes', () => {
  it('a binary envelope is kind 00, the connection id, then the payload untouched', () => {
    const data = Buffer.from('00ff7f80', 'hex');
    const bytes = encodeEnvelope({ kind: 'binary', conn: 'a1', data });
    expect(bytes.toString('hex')).toBe('00026131' + '00ff7f80');
    expect(decodeEnvelope(bytes)).toEqual({ kind: 'binary', conn: 'a1', data });
  });

  it('control and replaced envelopes round-trip', () => {
    const envelopes: Envelope[] = [
      { kind: 'control', conn: 'z', message: { type: 'partner-joined' }, from: { node: 'n2', conn: 'b' } },
      { kind: 'control', conn: 'z', message: { type: 'partner-left' } },
      { kind: 'replaced', conn: 'q9' },
    ];
    for (const envelope of envelopes) expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
    expect(encodeEnvelope({ kind: 'replaced', conn: 'q9' }).toString('hex')).toBe('02027139');
  });

  it('a truncated or unknown envelope throws', () => {
    expect(() => decodeEnvelope(Buffer.from('0005616263', 'hex'))).toThrow();
    expect(() => decodeEnvelope(Buffer.from('0900', 'hex'))).toThrow();
  });
});
