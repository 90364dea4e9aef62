import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Inbox, MAX_HELD } from '../src/session/inbox.ts';

const SENDER = '0123456789abcdef';

/** An inbox with what it has shown so far, checking every receipt against what was shown. */
class Reader {
  readonly shown: string[] = [];
  upTo = 0;
  constructor(
    readonly inbox = new Inbox(),
    readonly instance = SENDER,
  ) {}

  /** Feeds `ids` (text `#id`); returns what they made the inbox show. */
  feed(ids: readonly number[]): string[] {
    const shown: string[] = [];
    for (const id of ids) {
      const result = this.inbox.accept(this.instance, id, `#${id}`);
      expect(result.receipt).toEqual({ instance: this.instance, upTo: this.upTo + result.show.length });
      this.upTo = result.receipt.upTo;
      shown.push(...result.show);
    }
    this.shown.push(...shown);
    return shown;
  }
}

const labels = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `#${from + i}`);

describe('inbox', () => {
  it('with MAX_HELD messages held behind a gap, the message that fills the gap is still shown', () => {
    const reader = new Reader();
    const held = Array.from({ length: MAX_HELD + 5 }, (_, i) => i + 2); // 2 .. MAX_HELD + 6
    expect(reader.feed(held)).toEqual([]);
    // The gap filler, then everything held behind it: 2 .. MAX_HELD + 1 (the rest was dropped).
    expect(reader.feed([1])).toEqual(labels(1, MAX_HELD + 1));
    // The dropped ones come again (the sender resends whatever is unconfirmed) and are shown.
    expect(reader.feed([MAX_HELD + 2, MAX_HELD + 3])).toEqual(labels(MAX_HELD + 2, MAX_HELD + 3));
    expect(reader.upTo).toBe(MAX_HELD + 3);
  });

  it('holds at most MAX_HELD messages: the ones beyond it are dropped until they come again', () => {
    const reader = new Reader(new Inbox({ maxHeld: 3 }));
    expect(reader.feed([2, 3, 4, 5, 6])).toEqual([]);
    expect(reader.feed([1])).toEqual(labels(1, 4));
    expect(reader.feed([6])).toEqual([]);
    expect(reader.feed([5])).toEqual(['#5', '#6']);
  });

  it('with no room to hold anything, shows messages that arrive in order', () => {
    const reader = new Reader(new Inbox({ maxHeld: 0 }));
    expect(reader.feed([2, 1, 3, 2])).toEqual(['#1', '#2']);
    expect(reader.feed([3])).toEqual(['#3']);
  });

  it('an id already shown, or already held, takes no room in the hold', () => {
    const reader = new Reader(new Inbox({ maxHeld: 1 }));
    expect(reader.feed([1, 2, 2, 1, 4, 4])).toEqual(['#1', '#2']);
    expect(reader.feed([3])).toEqual(['#3', '#4']);
  });

  it('ignores a duplicate of a held message: the first copy is the one shown', () => {
    const inbox = new Inbox();
    inbox.accept(SENDER, 2, 'first copy');
    inbox.accept(SENDER, 2, 'second copy');
    expect(inbox.accept(SENDER, 1, 'one').show).toEqual(['one', 'first copy']);
  });

  it('ignores ids already shown, and ids that are not positive', () => {
    const inbox = new Inbox();
    expect(new Reader(inbox).feed([1, 2])).toEqual(['#1', '#2']);
    for (const id of [0, -1, 1, 2]) {
      expect(inbox.accept(SENDER, id, 'again')).toEqual({ show: [], receipt: { instance: SENDER, upTo: 2 } });
    }
    expect(inbox.accept(SENDER, 3, '#3').show).toEqual(['#3']);
  });

  it('shows any arrival order of ids 1..n with duplicates exactly once and in order, whatever MAX_HELD is', () => {
    const arrivals = fc.integer({ min: 1, max: 40 }).chain((n) =>
      fc.tuple(
        fc.constant(n),
        fc.integer({ min: 0, max: 50 }),
        // Every id at least once, plus duplicates, in any order.
        fc
          .array(fc.integer({ min: 1, max: n }), { maxLength: 3 * n })
          .chain((extra) => fc.shuffledSubarray([...labelsOf(n), ...extra], { minLength: n + extra.length })),
      ),
    );
    fc.assert(
      fc.property(arrivals, ([n, maxHeld, order]) => {
        const reader = new Reader(new Inbox({ maxHeld }));
        reader.feed(order);
        // The sender resends whatever the last receipt does not cover, in order.
        reader.feed(Array.from({ length: n - reader.upTo }, (_, i) => reader.upTo + i + 1));
        expect(reader.shown).toEqual(labels(1, n));
        expect(reader.upTo).toBe(n);
      }),
      { numRuns: 500 },
    );
  });

  it('with room to hold them all, any arrival order of 1..n with duplicates shows all n without a resend', () => {
    const arrivals = fc
      .integer({ min: 1, max: 60 })
      .chain((n) =>
        fc
          .array(fc.integer({ min: 1, max: n }), { maxLength: 2 * n })
          .chain((extra) => fc.shuffledSubarray([...labelsOf(n), ...extra], { minLength: n + extra.length })),
      );
    fc.assert(
      fc.property(arrivals, (order) => {
        const n = Math.max(...order);
        const reader = new Reader(new Inbox({ maxHeld: n - 1 }));
        reader.feed(order);
        expect(reader.shown).toEqual(labels(1, n));
        expect(reader.upTo).toBe(n);
      }),
      { numRuns: 300 },
    );
  });

  it('a new sender instance starts a new sequence and forgets what the old one had held', () => {
    const inbox = new Inbox();
    expect(inbox.accept('aaaaaaaaaaaaaaaa', 1, 'one').show).toEqual(['one']);
    inbox.accept('aaaaaaaaaaaaaaaa', 3, 'old three');
    expect(inbox.accept('bbbbbbbbbbbbbbbb', 1, 'fresh one')).toEqual({
      show: ['fresh one'],
      receipt: { instance: 'bbbbbbbbbbbbbbbb', upTo: 1 },
    });
    expect(inbox.accept('bbbbbbbbbbbbbbbb', 2, 'fresh two').show).toEqual(['fresh two']);
    expect(inbox.accept('bbbbbbbbbbbbbbbb', 3, 'fresh three').show).toEqual(['fresh three']);
  });

  it('checks its options', () => {
    for (const maxHeld of [-1, 1.5, Number.NaN]) {
      expect(() => new Inbox({ maxHeld })).toThrow(expect.objectContaining({ code: 'bad-input' }));
    }
  });
});

function labelsOf(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}
