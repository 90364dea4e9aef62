/**
 * The incoming transfer machine alone (session/file-receiver.ts), with a recording host and a
 * memory sink: what it stores and in which order, what it says to the sender and when, how it
 * ends. The transfers around it are tested in file-transfer.test.ts.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import type { FileEnvelope } from '../src/protocol/file-envelope.ts';
import { sha256Hash, type FileSink } from '../src/session/file-io.ts';
import { ACK_DELAY_MS, ACK_EVERY, FileReceiver } from '../src/session/file-receiver.ts';

const ID = new Uint8Array(16).fill(9);
const CHUNK = 10;

interface Options {
  size?: number;
  window?: number;
  openFails?: boolean;
  writeFails?: boolean;
  closeFails?: boolean;
  /** Writes wait until the test releases them (`releaseWrites`). */
  holdWrites?: boolean;
}

/** An envelope to the sender, in short. */
function show(envelope: FileEnvelope): string {
  switch (envelope.type) {
    case 'accept':
      return `accept ${envelope.from}`;
    case 'ack':
      return `ack ${envelope.upTo}`;
    case 'cancel':
      return `cancel ${envelope.reason}`;
    default:
      return envelope.type;
  }
}

function setup(options: Options = {}) {
  const size = options.size ?? 95;
  const content = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
  const sent: string[] = [];
  const timers: { callback: () => void; ms: number }[] = [];
  const written: Uint8Array[] = [];
  const sink = { opened: 0, aborted: 0, closed: 0 };
  const counter = { changes: 0 };
  const heldWrites: (() => void)[] = [];
  const receiver = new FileReceiver<Uint8Array>(
    {
      id: ID,
      meta: { name: 'f.bin', size, mime: '' },
      chunkBytes: CHUNK,
      window: options.window ?? 4,
      hash: sha256Hash(),
    },
    {
      send: (envelope) => void sent.push(show(envelope)),
      later: (callback, ms) => void timers.push({ callback, ms }),
      changed: () => void (counter.changes += 1),
      openSink: async (): Promise<FileSink<Uint8Array>> => {
        sink.opened += 1;
        if (options.openFails) throw new Error('no room');
        return {
          write: async (bytes) => {
            if (options.holdWrites) await new Promise<void>((resolve) => heldWrites.push(resolve));
            if (options.writeFails) throw new Error('disk full');
            written.push(bytes);
          },
          close: async () => {
            sink.closed += 1;
            if (options.closeFails) throw new Error('cannot close');
            return new Uint8Array(written.flatMap((b) => [...b]));
          },
          abort: async () => void (sink.aborted += 1),
        };
      },
    },
  );
  const chunkOf = (index: number) => content.slice(index * CHUNK, (index + 1) * CHUNK);
  return {
    receiver,
    content,
    sent,
    timers,
    written,
    sink,
    counter,
    chunkOf,
    digest: sha256(content),
    /** Lets the held writes finish. */
    releaseWrites() {
      for (const release of heldWrites.splice(0)) release();
    },
    /** How many writes are waiting to be released. */
    get heldWrites() {
      return heldWrites.length;
    },
    /** Delivers chunks by index, then lets the queued writes finish. */
    async deliver(...indexes: number[]) {
      for (const index of indexes) receiver.chunk(index, chunkOf(index));
      await settle(receiver);
    },
  };
}

/** Lets queued writes finish, and what they queue in turn (verification, closing). */
async function settle(receiver: FileReceiver<unknown>): Promise<void> {
  for (let i = 0; i < 3; i++) await receiver.settled;
}

async function accepted(options: Options = {}) {
  const t = setup(options);
  await t.receiver.accept();
  t.sent.length = 0;
  return t;
}

describe('file receiver: accepting', () => {
  it('accept opens the sink, then asks for chunk 0; only once', async () => {
    const t = setup();
    expect(t.receiver.active).toBe(true);
    expect(t.receiver.count).toBe(10);
    const accepting = t.receiver.accept();
    expect(t.receiver.phase).toBe('accepting');
    expect(t.counter.changes).toBe(1);
    await accepting;
    expect(t.receiver.phase).toBe('receiving');
    expect(t.counter.changes).toBe(2);
    expect(t.sent).toEqual(['accept 0']);
    await t.receiver.accept();
    expect(t.sink.opened).toBe(1);
    expect(t.sent).toEqual(['accept 0']);
  });

  it('a sink that cannot open fails the transfer and tells the sender', async () => {
    const t = setup({ openFails: true });
    await t.receiver.accept();
    expect([t.receiver.phase, t.receiver.code]).toEqual(['failed', 'file-write-failed']);
    expect(t.receiver.active).toBe(false);
    expect(t.sent).toEqual(['cancel failed']);
  });

  it('cancelled while the sink opens: the sink is thrown away and nothing is asked for', async () => {
    const t = setup();
    const accepting = t.receiver.accept();
    t.receiver.cancel(true);
    await accepting;
    await settle(t.receiver);
    expect(t.sink.aborted).toBe(1);
    expect(t.sent).toEqual(['cancel cancelled']);
    expect(t.receiver.phase).toBe('cancelled');
  });

  it('cancelled while a sink that cannot open fails: it stays cancelled, and only that is said', async () => {
    const t = setup({ openFails: true });
    const accepting = t.receiver.accept();
    t.receiver.cancel(true);
    await accepting;
    expect([t.receiver.phase, t.receiver.code]).toEqual(['cancelled', undefined]);
    expect(t.sent).toEqual(['cancel cancelled']);
  });

  it('before the sink is open, envelopes from the sender get no answer', async () => {
    const t = setup();
    const poke = () => {
      t.receiver.chunk(0, t.chunkOf(0));
      t.receiver.end(t.digest);
      t.receiver.resume();
      t.receiver.offeredAgain();
    };
    poke(); // offered
    const accepting = t.receiver.accept();
    poke(); // accepting
    expect(t.sent).toEqual([]);
    await accepting;
    expect(t.sent).toEqual(['accept 0']);
  });

  it('an empty file is verified at once, with no chunk', async () => {
    const t = setup({ size: 0 });
    await t.receiver.accept();
    t.receiver.end(sha256(new Uint8Array(0)));
    await settle(t.receiver);
    expect(t.receiver.phase).toBe('done');
    expect(t.receiver.result).toEqual(new Uint8Array(0));
    expect(t.sent).toEqual(['accept 0', 'done']);
  });

  it('offered again: while receiving, accept from what is stored; after the end, the final word', async () => {
    const t = await accepted();
    await t.deliver(0, 1);
    t.receiver.offeredAgain();
    expect(t.sent.at(-1)).toBe('accept 2');
    t.receiver.cancel(false);
    t.receiver.offeredAgain();
    expect(t.sent.at(-1)).toBe('cancel cancelled');
  });
});

describe('file receiver: chunks in order', () => {
  it('stores in order, acks every ACK_EVERY chunks and at the last, and later for the rest', async () => {
    expect(ACK_EVERY).toBe(4);
    const t = await accepted();
    await t.deliver(0, 1, 2);
    expect(t.receiver.stored).toBe(3);
    expect(t.receiver.storedBytes).toBe(30);
    expect(t.sent).toEqual([]);
    expect(t.timers.map((timer) => timer.ms)).toEqual([ACK_DELAY_MS]); // one timer for the three
    await t.deliver(3);
    expect(t.sent).toEqual(['ack 4']);
    t.timers[0]!.callback(); // nothing new since the ack: no second ack
    expect(t.sent).toEqual(['ack 4']);
    await t.deliver(4);
    expect(t.timers).toHaveLength(2);
    t.timers[1]!.callback();
    expect(t.sent).toEqual(['ack 4', 'ack 5']);
    await t.deliver(5, 6, 7, 8, 9);
    expect(t.sent).toEqual(['ack 4', 'ack 5', 'ack 9', 'ack 10']);
    expect(t.receiver.storedBytes).toBe(95);
    expect(t.receiver.phase).toBe('receiving'); // waits for the digest
    t.receiver.end(t.digest);
    await settle(t.receiver);
    expect(t.receiver.phase).toBe('done');
    expect(t.receiver.result).toEqual(t.content);
    expect(t.sent.at(-1)).toBe('done');
    expect(t.sink.closed).toBe(1);
  });

  it('the digest may come before the last chunks; a second digest does not replace the first', async () => {
    const t = await accepted({ size: 25 });
    t.receiver.end(t.digest);
    t.receiver.end(new Uint8Array(32));
    await t.deliver(0, 1, 2);
    expect(t.receiver.phase).toBe('done');
  });

  it('a delayed ack after the transfer ended says nothing', async () => {
    const t = await accepted();
    await t.deliver(0);
    t.receiver.cancel(false);
    t.timers[0]!.callback();
    expect(t.sent).toEqual([]);
  });

  it('a wrong digest is tampered: nothing is offered, the sink is thrown away', async () => {
    const t = await accepted({ size: 25 });
    await t.deliver(0, 1, 2);
    t.receiver.end(new Uint8Array(32).fill(1));
    await settle(t.receiver);
    expect([t.receiver.phase, t.receiver.code, t.receiver.result]).toEqual(['failed', 'tampered', undefined]);
    expect(t.sent.at(-1)).toBe('cancel tampered');
    expect(t.sink.aborted).toBe(1);
    expect(t.sink.closed).toBe(0);
    // Anything more from the sender gets the final word again.
    t.receiver.chunk(0, t.chunkOf(0));
    t.receiver.end(t.digest);
    expect(t.sent.slice(-2)).toEqual(['cancel tampered', 'cancel tampered']);
  });

  it('a chunk of the wrong length, or past the last, fails the transfer', async () => {
    const short = await accepted();
    short.receiver.chunk(0, new Uint8Array(9));
    expect([short.receiver.phase, short.receiver.code]).toEqual(['failed', 'transfer-failed']);
    expect(short.sent).toEqual(['cancel failed']);
    const last = await accepted();
    last.receiver.chunk(9, new Uint8Array(10)); // the last chunk is 5 bytes
    expect(last.receiver.phase).toBe('failed');
    const beyond = await accepted();
    beyond.receiver.chunk(10, new Uint8Array(5));
    expect(beyond.receiver.phase).toBe('failed');
    const fine = await accepted();
    fine.receiver.chunk(9, new Uint8Array(5)); // ahead of a gap, but a proper chunk
    expect(fine.receiver.phase).toBe('receiving');
  });

  it('a sink that cannot write fails the transfer once', async () => {
    const t = await accepted({ writeFails: true });
    await t.deliver(0, 1);
    expect([t.receiver.phase, t.receiver.code]).toEqual(['failed', 'file-write-failed']);
    expect(t.sent).toEqual(['cancel failed']);
    expect(t.receiver.stored).toBe(0);
  });

  it('a sink that cannot close fails the transfer', async () => {
    const t = await accepted({ size: 15, closeFails: true });
    await t.deliver(0, 1);
    t.receiver.end(t.digest);
    await settle(t.receiver);
    expect([t.receiver.phase, t.receiver.code]).toEqual(['failed', 'file-write-failed']);
    expect(t.sent).toEqual(['ack 2', 'cancel failed']);
  });

  it('a digest repeated while the sink closes closes it once', async () => {
    const t = await accepted({ size: 15 });
    await t.deliver(0, 1);
    t.receiver.end(t.digest);
    t.receiver.end(t.digest);
    await settle(t.receiver);
    expect(t.sink.closed).toBe(1);
    expect(t.sent).toEqual(['ack 2', 'done']);
  });

  it('cancelled while a chunk is being written: nothing more is stored or acknowledged', async () => {
    const t = await accepted({ holdWrites: true });
    t.receiver.chunk(0, t.chunkOf(0));
    t.receiver.chunk(1, t.chunkOf(1));
    while (t.heldWrites === 0) await new Promise((resolve) => setImmediate(resolve));
    t.receiver.cancel(false);
    const changes = t.counter.changes;
    t.releaseWrites();
    await settle(t.receiver);
    expect(t.receiver.stored).toBe(0);
    expect(t.sent).toEqual([]);
    expect(t.timers).toEqual([]);
    expect(t.counter.changes).toBe(changes);
  });

  it('cancelled while the sink closes: no done, nothing offered', async () => {
    const t = await accepted({ size: 15 });
    await t.deliver(0, 1);
    t.receiver.end(t.digest);
    t.receiver.cancel(true);
    await settle(t.receiver);
    expect(t.receiver.phase).toBe('cancelled');
    expect(t.receiver.result).toBeUndefined();
    expect(t.sent).toEqual(['ack 2', 'cancel cancelled']);
  });
});

describe('file receiver: gaps, duplicates and the window', () => {
  it('chunks ahead of a gap are held (within the window) and stored once the gap fills', async () => {
    const t = await accepted();
    await t.deliver(1, 2, 3);
    expect(t.receiver.stored).toBe(0);
    expect(t.sent).toEqual(['ack 0']); // the gap, said once for this position
    await t.deliver(0);
    expect(t.receiver.stored).toBe(4);
    expect(t.written.map((w) => w[0])).toEqual([0, 1, 2, 3].map((i) => t.chunkOf(i)[0]));
    expect(t.sent).toEqual(['ack 0', 'ack 4']);
  });

  it('a gap filled from held chunks frees their places for the next gap', async () => {
    const t = await accepted({ window: 4 });
    await t.deliver(1, 2, 3);
    await t.deliver(0);
    expect(t.receiver.stored).toBe(4);
    await t.deliver(5, 6, 7);
    await t.deliver(4);
    expect(t.receiver.stored).toBe(8);
  });

  it('chunks waiting for the sink are bounded too, at two windows; the rest is dropped and sent again', async () => {
    const t = await accepted({ window: 4 });
    for (let index = 0; index < 10; index++) t.receiver.chunk(index, t.chunkOf(index));
    await settle(t.receiver);
    expect(t.receiver.stored).toBe(8); // 8 was dropped (9 is held, ahead of the gap)
    expect(t.sent).toEqual(['ack 0', 'ack 4', 'ack 8']);
    await t.deliver(8);
    expect(t.receiver.stored).toBe(10);
  });

  it('a chunk dropped because the sink is behind takes no place among the held ones', async () => {
    const t = await accepted({ size: 200, window: 2 });
    await t.deliver(0, 1, 2, 3, 4); // 4 is dropped: four chunks wait for the sink
    expect(t.receiver.stored).toBe(4);
    await t.deliver(4, 5, 6, 7, 8, 9); // 8 is dropped again; 9 is held
    expect(t.receiver.stored).toBe(8);
    await t.deliver(8);
    expect(t.receiver.stored).toBe(10);
  });

  it('a chunk a whole window ahead is not held; the sender sends it again', async () => {
    const t = await accepted({ window: 3 });
    await t.deliver(3); // expected 0: 0 + 3 is outside the window
    await t.deliver(2, 1, 0);
    expect(t.receiver.stored).toBe(3);
    await t.deliver(4);
    expect(t.receiver.stored).toBe(3); // chunk 3 was dropped, 4 is held
    await t.deliver(3);
    expect(t.receiver.stored).toBe(5);
  });

  it('at most a window of chunks is held', async () => {
    const t = await accepted({ window: 3 });
    // Only 1 and 2 fit between expected (0) and the window's end; the held map stays ≤ 3.
    await t.deliver(1, 2);
    await t.deliver(0);
    expect(t.receiver.stored).toBe(3);
  });

  it('a duplicate is dropped and answered with an ack, once per position', async () => {
    const t = await accepted();
    await t.deliver(0, 1);
    t.timers.length = 0;
    await t.deliver(0);
    expect(t.sent).toEqual(['ack 2']);
    await t.deliver(1, 0);
    expect(t.sent).toEqual(['ack 2']);
    await t.deliver(2, 3);
    await t.deliver(2);
    await t.deliver(3);
    expect(t.sent).toEqual(['ack 2', 'ack 4']);
    expect(t.receiver.stored).toBe(4);
  });

  it('a duplicate after the first chunk is answered too', async () => {
    const t = await accepted();
    await t.deliver(0);
    await t.deliver(0);
    expect(t.sent).toEqual(['ack 1']);
  });

  it('resume: while receiving, an ack of what is stored; after the end, the final word', async () => {
    const t = await accepted();
    await t.deliver(0);
    t.receiver.resume();
    expect(t.sent).toEqual(['ack 1']);
    t.receiver.stopped('transfer-lost');
    t.receiver.resume();
    expect(t.sent).toEqual(['ack 1', 'cancel failed']);
  });
});

describe('file receiver: endings', () => {
  it('declining an offer, cancelling an accepted transfer; notify says so to the sender', async () => {
    const offered = setup();
    offered.receiver.cancel(true);
    expect([offered.receiver.phase, offered.receiver.declined, offered.receiver.cancelledBy]).toEqual([
      'cancelled',
      true,
      'you',
    ]);
    expect(offered.sent).toEqual(['cancel declined']);
    expect(offered.counter.changes).toBe(1);
    offered.receiver.cancel(true);
    expect(offered.sent).toEqual(['cancel declined']);
    offered.receiver.chunk(0, offered.chunkOf(0));
    expect(offered.sent).toEqual(['cancel declined', 'cancel declined']);

    const t = await accepted();
    await t.deliver(0);
    t.receiver.cancel(false);
    await settle(t.receiver);
    expect([t.receiver.phase, t.receiver.declined]).toEqual(['cancelled', false]);
    expect(t.sent).toEqual([]);
    expect(t.sink.aborted).toBe(1);
    t.receiver.end(t.digest);
    expect(t.sent).toEqual(['cancel cancelled']);
  });

  it('stopped: by the partner (no code) or failed with a code; only the first ending counts', async () => {
    const t = await accepted();
    t.receiver.stopped(undefined);
    expect([t.receiver.phase, t.receiver.cancelledBy, t.receiver.code]).toEqual([
      'cancelled',
      'partner',
      undefined,
    ]);
    t.receiver.stopped('transfer-lost');
    expect(t.receiver.phase).toBe('cancelled');
    const failed = await accepted();
    failed.receiver.stopped('too-large');
    expect([failed.receiver.phase, failed.receiver.code, failed.receiver.cancelledBy]).toEqual([
      'failed',
      'too-large',
      undefined,
    ]);
    expect(failed.sent).toEqual([]);
    failed.receiver.cancel(true);
    expect(failed.sent).toEqual([]);
  });

  it('cancelled by the partner: whatever comes later is answered cancelled', async () => {
    const t = await accepted();
    t.receiver.stopped(undefined);
    t.receiver.resume();
    expect(t.sent).toEqual(['cancel cancelled']);
    expect(t.receiver.declined).toBe(false);
  });

  it('a finished transfer answers with done; held chunks are dropped when it ends', async () => {
    const t = await accepted({ size: 15 });
    await t.deliver(0, 1);
    t.receiver.end(t.digest);
    await settle(t.receiver);
    t.receiver.chunk(1, t.chunkOf(1));
    t.receiver.resume();
    expect(t.sent.slice(-2)).toEqual(['done', 'done']);
    const held = await accepted();
    await held.deliver(2);
    held.receiver.stopped(undefined);
    await held.deliver(0, 1);
    expect(held.written).toEqual([]);
  });
});
