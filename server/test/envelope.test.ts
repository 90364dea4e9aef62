/** The envelopes relay nodes exchange over Redis (docs/scale-out.md): exact bytes, both ways. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BATCH,
  decodeEnvelope,
  decodeEnvelopes,
  encodeEnvelope,
  encodeEnvelopes,
  type Envelope,
} from '../src/envelope.ts';
import { BATCH_MAX_BYTES, batchedPublisher, channelOf, type Publisher } from '../src/redis/bus.ts';

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

const arbitraryEnvelope: fc.Arbitrary<Envelope> = fc.oneof(
  fc.record({
    kind: fc.constant('binary' as const),
    conn: fc.string({ unit: 'binary-ascii', maxLength: 40 }),
    data: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  }),
  fc.record({
    kind: fc.constant('control' as const),
    conn: fc.string({ unit: 'binary-ascii', maxLength: 40 }),
    message: fc.constantFrom({ type: 'partner-joined' as const }, { type: 'partner-left' as const }),
  }),
  fc.record({
    kind: fc.constant('replaced' as const),
    conn: fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  }),
);

describe('envelope batches', () => {
  it('any list of envelopes comes back whole and in order', () => {
    fc.assert(
      fc.property(fc.array(arbitraryEnvelope, { maxLength: 20 }), (envelopes) => {
        const bytes = encodeEnvelopes(envelopes);
        expect(bytes[0]).toBe(BATCH);
        expect(decodeEnvelopes(bytes)).toEqual(envelopes);
      }),
    );
  });

  it('is the batch marker, then each envelope behind its 4-byte length', () => {
    const bytes = encodeEnvelopes([
      { kind: 'replaced', conn: 'q9' },
      { kind: 'binary', conn: 'a1', data: Buffer.from('ff', 'hex') },
    ]);
    expect(bytes.toString('hex')).toBe('ff' + '00000004' + '02027139' + '00000005' + '00026131ff');
  });

  it('still reads a lone envelope from a node that does not batch', () => {
    const envelope: Envelope = { kind: 'binary', conn: 'a1', data: Buffer.from('00ff', 'hex') };
    expect(decodeEnvelopes(encodeEnvelope(envelope))).toEqual([envelope]);
  });

  it('a truncated batch or a bad envelope inside one throws', () => {
    const good = encodeEnvelopes([{ kind: 'replaced', conn: 'q9' }]);
    for (let cut = 2; cut < good.length; cut += 1) {
      expect(() => decodeEnvelopes(good.subarray(0, cut)), String(cut)).toThrow();
    }
    expect(() => decodeEnvelopes(Buffer.from('ff000000020900', 'hex'))).toThrow();
  });
});

describe('publishing to other nodes', () => {
  function recorder(): { publisher: Publisher; sent: [string, Buffer][] } {
    const sent: [string, Buffer][] = [];
    const publisher: Publisher = {
      publish: ((channel: string, message: Buffer) => {
        sent.push([channel, message]);
        return Promise.resolve(1);
      }) as Publisher['publish'],
    };
    return { publisher, sent };
  }
  const frame = (conn: string, text: string): Envelope => ({ kind: 'binary', conn, data: Buffer.from(text) });
  const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  it('sends one PUBLISH per destination node per turn, with its envelopes in order', async () => {
    const { publisher, sent } = recorder();
    const outbox = batchedPublisher(publisher);
    outbox.publish('n2', frame('a', 'one'));
    outbox.publish('n3', frame('b', 'x'));
    outbox.publish('n2', frame('a', 'two'));
    outbox.publish('n2', { kind: 'control', conn: 'c', message: { type: 'partner-left' } });
    expect(sent).toEqual([]);
    await nextTurn();
    expect(sent.map(([channel]) => channel)).toEqual([channelOf('n2'), channelOf('n3')]);
    expect(decodeEnvelopes(sent[0]?.[1] ?? Buffer.alloc(0))).toEqual([
      frame('a', 'one'),
      frame('a', 'two'),
      { kind: 'control', conn: 'c', message: { type: 'partner-left' } },
    ]);
    expect(decodeEnvelopes(sent[1]?.[1] ?? Buffer.alloc(0))).toEqual([frame('b', 'x')]);
    outbox.publish('n2', frame('a', 'three'));
    await nextTurn();
    expect(sent).toHaveLength(3);
    expect(decodeEnvelopes(sent[2]?.[1] ?? Buffer.alloc(0))).toEqual([frame('a', 'three')]);
  });

  it('sends a batch at once when it reaches BATCH_MAX_BYTES, keeping the order', async () => {
    const { publisher, sent } = recorder();
    const outbox = batchedPublisher(publisher);
    const big = (n: number): Envelope => ({
      kind: 'binary',
      conn: 'a',
      data: Buffer.alloc(BATCH_MAX_BYTES / 2, n),
    });
    outbox.publish('n2', big(1));
    expect(sent).toHaveLength(0);
    outbox.publish('n2', big(2));
    expect(sent).toHaveLength(1);
    outbox.publish('n2', big(3));
    await nextTurn();
    const received = sent.flatMap(([, message]) => decodeEnvelopes(message));
    expect(received.map((envelope) => (envelope.kind === 'binary' ? envelope.data[0] : -1))).toEqual([
      1, 2, 3,
    ]);
  });

  it('flush sends what is pending now (a closing node), and a failed PUBLISH is dropped quietly', async () => {
    const failing: Publisher = { publish: (() => Promise.reject(new Error('down'))) as Publisher['publish'] };
    const outbox = batchedPublisher(failing);
    outbox.publish('n2', frame('a', 'lost'));
    expect(() => outbox.flush()).not.toThrow();
    await nextTurn();
    const { publisher, sent } = recorder();
    const other = batchedPublisher(publisher);
    other.publish('n2', frame('a', 'now'));
    other.flush();
    expect(sent).toHaveLength(1);
    await nextTurn();
    expect(sent).toHaveLength(1);
  });
});
