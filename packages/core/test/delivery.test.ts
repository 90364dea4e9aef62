import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDuetError } from '../src/errors.ts';
import { createDelivery } from '../src/session/delivery.ts';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../src/session/envelope.ts';
import { Outbox } from '../src/session/outbox.ts';

const instance = fc.stringMatching(/^[0-9a-f]{16}$/);

describe('envelope', () => {
  it('any message or receipt round-trips, whatever the text holds', () => {
    const envelope: fc.Arbitrary<Envelope> = fc.oneof(
      fc.record({
        kind: fc.constant('message' as const),
        instance,
        id: fc.integer({ min: 1, max: 2 ** 40 }),
        text: fc.string({ unit: 'grapheme' }),
      }),
      fc.record({
        kind: fc.constant('receipt' as const),
        instance,
        upTo: fc.integer({ min: 0, max: 2 ** 40 }),
      }),
    );
    fc.assert(
      fc.property(envelope, (value) => {
        expect(decodeEnvelope(encodeEnvelope(value))).toEqual(value);
      }),
    );
  });

  it('anything else is bad-frame, never another error', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          const decoded = decodeEnvelope(text);
          expect(encodeEnvelope(decoded)).toBe(text); // only canonical encodings decode
        } catch (error) {
          expect(isDuetError(error, 'bad-frame')).toBe(true);
        }
      }),
    );
    for (const text of [
      '',
      'hello',
      'm:0123456789abcdef:0:zero id',
      'm:0123456789abcdef:01:x',
      'r:0123456789abcdef:1:',
      'x:0123456789abcdef:1:x',
      'm:0123456789ABCDEF:1:x',
    ]) {
      expect(() => decodeEnvelope(text), text).toThrow(expect.objectContaining({ code: 'bad-frame' }));
    }
  });
});

describe('outbox', () => {
  it('numbers from 1, goes sending → sent on relay acks → delivered on receipts', () => {
    const outbox = new Outbox();
    const [a, b, c] = ['a', 'b', 'c'].map((text) => outbox.add(text));
    expect([a!.id, b!.id, c!.id]).toEqual([1, 2, 3]);
    outbox.transmitted(1, 1);
    outbox.transmitted(2, 3); // frame 2 was something else (a receipt)
    expect(outbox.relayAcked(2)).toEqual([1]);
    expect(outbox.relayAcked(3)).toEqual([2]);
    expect(outbox.receipt(2)).toEqual([1, 2]);
    expect(outbox.undelivered().map((m) => m.id)).toEqual([3]);
    expect(outbox.receipt(2)).toEqual([]); // receipts are idempotent
    expect(outbox.failAll()).toEqual([3]);
    expect(outbox.undelivered()).toEqual([]);
  });

  it('a new link forgets frame numbers of the old one', () => {
    const outbox = new Outbox();
    outbox.add('x');
    outbox.transmitted(1, 1);
    outbox.newLink();
    expect(outbox.relayAcked(5)).toEqual([]);
  });
});

describe('outbox settled by relay acks (des)', () => {
  it('sent is final: an acked message leaves the outbox; an unacked one is due again on a new link', () => {
    const outbox = new Outbox({ settledBy: 'relay-ack' });
    ['a', 'b', 'c'].forEach((text) => outbox.add(text));
    outbox.transmitted(1, 1);
    outbox.transmitted(2, 2);
    expect(outbox.notOnLink().map((m) => m.id)).toEqual([3]);
    expect(outbox.relayAcked(1)).toEqual([1]);
    expect(outbox.undelivered().map((m) => m.id)).toEqual([2, 3]);
    outbox.newLink();
    expect(outbox.notOnLink().map((m) => m.id)).toEqual([2, 3]);
    expect(outbox.relayAcked(2)).toEqual([]); // frame numbers of the old link are forgotten
    expect(outbox.failAll()).toEqual([2, 3]);
  });
});

describe('delivery per suite', () => {
  const random = (n: number) => new Uint8Array(n).fill(0xab);

  it('modern wraps each message in an envelope and answers partner messages with a receipt', () => {
    const delivery = createDelivery('modern', random);
    expect(delivery.receipts).toBe(true);
    const message = delivery.add('hi');
    expect(decodeEnvelope(delivery.plaintext(message))).toEqual({
      kind: 'message',
      instance: 'ab'.repeat(8),
      id: 1,
      text: 'hi',
    });
    const incoming = encodeEnvelope({ kind: 'message', instance: '0123456789abcdef', id: 1, text: 'yo' });
    expect(delivery.receive(incoming)).toEqual([{ type: 'incoming', text: 'yo' }, { type: 'receipt-due' }]);
    expect(delivery.takeReceipt()).toBe('r:0123456789abcdef:1');
    expect(delivery.takeReceipt()).toBeUndefined();
    expect(delivery.receive(encodeEnvelope({ kind: 'receipt', instance: 'ab'.repeat(8), upTo: 1 }))).toEqual([
      { type: 'delivery', id: 1, status: 'delivered' },
    ]);
    expect(() => delivery.receive('plain text')).toThrow(expect.objectContaining({ code: 'bad-frame' }));
  });

  it('des sends the text itself, shows any text as it is, and has no receipts', () => {
    const delivery = createDelivery('des', random);
    expect(delivery.receipts).toBe(false);
    const message = delivery.add('m:0123456789abcdef:1:not an envelope');
    expect(delivery.plaintext(message)).toBe('m:0123456789abcdef:1:not an envelope');
    expect(delivery.due()).toEqual([message]);
    expect(delivery.sealed(message)).toBeUndefined();
    delivery.transmitted(message.id, 1, new Uint8Array([1, 2, 3]));
    expect(delivery.due()).toEqual([]);
    expect(delivery.sealed(message)).toEqual(new Uint8Array([1, 2, 3])); // sent again as it is
    delivery.rekeyed();
    expect(delivery.sealed(message)).toBeUndefined(); // unless the key changed
    expect(delivery.awaitingReceipts()).toBe(false);
    expect(delivery.relayAcked(1)).toEqual([{ type: 'delivery', id: 1, status: 'sent' }]);
    for (const text of ['', 'r:0123456789abcdef:1', 'café 🙂'])
      expect(delivery.receive(text)).toEqual([{ type: 'incoming', text }]);
    expect(delivery.takeReceipt()).toBeUndefined();
  });
});
