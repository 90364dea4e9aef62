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

  it('decodes exactly the canonical encodings; anything else is bad-frame, never another error', () => {
    // Strings near the grammar, so that many decode and many fail by one detail: the kind, the
    // instance's length and case, the counter's form and size, the separators, the text.
    const hexDigits = (min: number, max: number, upper = false) =>
      fc.string({
        unit: fc.constantFrom(...(upper ? '0123456789abcdefABCDEF' : '0123456789abcdef')),
        minLength: min,
        maxLength: max,
      });
    const counter = fc.oneof(
      fc.constantFrom(
        '0',
        '00',
        '01',
        '1',
        '999999999999999',
        '1000000000000000',
        '-1',
        '+1',
        '1e3',
        ' 1',
        '',
      ),
      fc.string({ unit: fc.constantFrom('0', '1', '9'), minLength: 1, maxLength: 17 }),
    );
    const near = fc
      .tuple(
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom('m', 'r') },
          { weight: 1, arbitrary: fc.constantFrom('x', 'M', '') },
        ),
        fc.oneof(
          { weight: 4, arbitrary: hexDigits(16, 16) },
          { weight: 1, arbitrary: hexDigits(15, 17) },
          { weight: 1, arbitrary: hexDigits(16, 16, true) },
        ),
        fc.oneof(
          { weight: 4, arbitrary: fc.nat({ max: 99 }).map(String) },
          { weight: 2, arbitrary: counter },
        ),
        fc.option(fc.string({ maxLength: 6 }), { nil: undefined, freq: 2 }),
      )
      .map(([kind, inst, count, text]) =>
        [kind, inst, count, ...(text === undefined ? [] : [text])].join(':'),
      );
    // The grammar of envelope.ts, written out again: what must decode.
    const canonical = /^(?:m:[0-9a-f]{16}:[1-9][0-9]{0,14}:[^]*|r:[0-9a-f]{16}:(?:0|[1-9][0-9]{0,14}))$/;
    const seen = { decoded: 0, refused: 0 };
    fc.assert(
      fc.property(fc.oneof({ weight: 3, arbitrary: near }, { weight: 1, arbitrary: fc.string() }), (text) => {
        let decoded: Envelope | undefined;
        try {
          decoded = decodeEnvelope(text);
        } catch (error) {
          expect(isDuetError(error, 'bad-frame'), String(error)).toBe(true);
        }
        expect(decoded !== undefined, text).toBe(canonical.test(text));
        if (decoded === undefined) seen.refused += 1;
        else {
          seen.decoded += 1;
          expect(encodeEnvelope(decoded)).toBe(text);
        }
      }),
      { numRuns: 2000 },
    );
    // The property says something only if both sides of it were exercised, often.
    expect(seen.decoded).toBeGreaterThan(200);
    expect(seen.refused).toBeGreaterThan(200);
  });

  it.each([
    ['an empty string', ''],
    ['a word', 'hello'],
    ['message id 0', 'm:0123456789abcdef:0:zero id'],
    ['a counter with a leading zero', 'm:0123456789abcdef:01:x'],
    ['a receipt with a text', 'r:0123456789abcdef:1:'],
    ['an unknown kind', 'x:0123456789abcdef:1:x'],
    ['an upper-case instance', 'm:0123456789ABCDEF:1:x'],
    ['a message without its text separator', 'm:0123456789abcdef:5'],
    ['an instance of 17 hex digits', 'm:0123456789abcdef0:1:x'],
    ['an instance of 15 hex digits', 'r:0123456789abcde:1'],
    ['a counter of 16 digits', 'r:0123456789abcdef:1000000000000000'],
    ['a negative counter', 'r:0123456789abcdef:-1'],
    ['a receipt with a trailing newline', 'r:0123456789abcdef:1\n'],
  ])('refuses %s as bad-frame', (_name, text) => {
    expect(() => decodeEnvelope(text)).toThrow(expect.objectContaining({ code: 'bad-frame' }));
  });

  it('decodes the edges of the grammar', () => {
    expect(decodeEnvelope('r:0123456789abcdef:0')).toEqual({
      kind: 'receipt',
      instance: '0123456789abcdef',
      upTo: 0,
    });
    expect(decodeEnvelope('m:0123456789abcdef:999999999999999:')).toEqual({
      kind: 'message',
      instance: '0123456789abcdef',
      id: 999_999_999_999_999,
      text: '',
    });
    expect(decodeEnvelope('m:0123456789abcdef:1:a:b:c')).toEqual({
      kind: 'message',
      instance: '0123456789abcdef',
      id: 1,
      text: 'a:b:c',
    });
  });
});

describe('outbox', () => {
  it('numbers from 1, goes sending → sent on relay acks → delivered on receipts', () => {
    const outbox = new Outbox();
    const [a, b, c] = ['a', 'b', 'c'].map((text) => outbox.add(text));
    expect([a, b, c].map((m) => [m!.id, m!.text, m!.status])).toEqual([
      [1, 'a', 'sending'],
      [2, 'b', 'sending'],
      [3, 'c', 'sending'],
    ]);
    outbox.transmitted(1, 1);
    outbox.transmitted(2, 3); // frame 2 was something else (a receipt)
    expect(outbox.relayAcked(2)).toEqual([1]);
    expect([a!.status, b!.status]).toEqual(['sent', 'sending']);
    expect(outbox.relayAcked(3)).toEqual([2]);
    expect(outbox.relayAcked(3)).toEqual([]); // acks are idempotent
    expect(outbox.receipt(2)).toEqual([1, 2]);
    expect([a!.status, b!.status, c!.status]).toEqual(['delivered', 'delivered', 'sending']);
    expect(outbox.undelivered().map((m) => m.id)).toEqual([3]);
    expect(outbox.receipt(2)).toEqual([]); // receipts are idempotent
    expect(outbox.failAll()).toEqual([3]);
    expect(c!.status).toBe('failed');
    expect(outbox.undelivered()).toEqual([]);
    expect(outbox.failAll()).toEqual([]);
  });

  it('a receipt may come before the relay ack: the message stays delivered', () => {
    const outbox = new Outbox();
    const message = outbox.add('fast partner');
    outbox.transmitted(1, 1);
    expect(outbox.receipt(1)).toEqual([1]);
    expect(outbox.relayAcked(1)).toEqual([]);
    expect(message.status).toBe('delivered');
  });

  it('a message sent again on the same link is acked by its latest frame too', () => {
    const outbox = new Outbox();
    outbox.add('x');
    outbox.transmitted(1, 1);
    outbox.transmitted(1, 2);
    expect(outbox.relayAcked(1)).toEqual([1]);
    expect(outbox.relayAcked(2)).toEqual([]);
  });

  it('a new link forgets frame numbers of the old one: the same number now means another frame', () => {
    const outbox = new Outbox();
    const [one, two] = [outbox.add('one'), outbox.add('two')];
    outbox.transmitted(1, 1);
    outbox.transmitted(2, 2);
    outbox.newLink();
    expect(outbox.relayAcked(5)).toEqual([]);
    outbox.transmitted(2, 1); // the new link's first frame carries message 2
    expect(outbox.relayAcked(1)).toEqual([2]);
    expect([one.status, two.status]).toEqual(['sending', 'sent']);
    // Resent after the reconnect, message 1 is sent once its frame on the new link is acked.
    outbox.transmitted(1, 2);
    expect(outbox.relayAcked(2)).toEqual([1]);
  });

  it('fail gives up on one pending message and keeps the others in order', () => {
    const outbox = new Outbox();
    const [a, b, c] = ['a', 'b', 'c'].map((text) => outbox.add(text));
    expect(outbox.fail(2)).toBe(true);
    expect(b!.status).toBe('failed');
    expect(outbox.undelivered().map((m) => m.id)).toEqual([1, 3]);
    expect(outbox.fail(2)).toBe(false);
    expect(outbox.fail(99)).toBe(false);
    expect(outbox.receipt(3)).toEqual([1, 3]);
    expect([a!.status, c!.status]).toEqual(['delivered', 'delivered']);
    expect(outbox.fail(1)).toBe(false);
    const d = outbox.add('d');
    expect(outbox.fail(d.id)).toBe(true); // the oldest pending message
    expect(d.status).toBe('failed');
    expect(d.id).toBe(4);
  });

  it('failAll also forgets the frames on the link', () => {
    const outbox = new Outbox();
    outbox.add('x');
    outbox.transmitted(1, 1);
    expect(outbox.failAll()).toEqual([1]);
    const next = outbox.add('y');
    outbox.transmitted(2, 2);
    expect(outbox.relayAcked(2)).toEqual([2]);
    expect(next.status).toBe('sent');
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

  it('modern carries path messages and marks a message handed to the direct link as sent', () => {
    const delivery = createDelivery('modern', random);
    expect(delivery.directPath).toBe(true);
    const ping = { t: 'ping', n: 3 } as const;
    expect(delivery.pathPlaintext(ping)).toBe('p:{"t":"ping","n":3}');
    expect(delivery.receive(delivery.pathPlaintext(ping))).toEqual([{ type: 'path', message: ping }]);
    expect(() => delivery.receive('p:{"t":"ping"}')).toThrow(expect.objectContaining({ code: 'bad-frame' }));
    const message = delivery.add('hi');
    expect(delivery.handedOver(message.id)).toEqual([{ type: 'delivery', id: 1, status: 'sent' }]);
    expect(delivery.handedOver(message.id)).toEqual([]); // once
  });

  it('des has no direct path: a text that looks like a path message is only text', () => {
    const delivery = createDelivery('des', random);
    expect(delivery.directPath).toBe(false);
    expect(delivery.receive('p:{"t":"bye","attempt":1}')).toEqual([
      { type: 'incoming', text: 'p:{"t":"bye","attempt":1}' },
    ]);
    expect(() => delivery.pathPlaintext({ t: 'ping', n: 0 })).toThrow(
      expect.objectContaining({ code: 'bad-input' }),
    );
  });
});
