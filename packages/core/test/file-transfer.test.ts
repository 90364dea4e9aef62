/**
 * The file transfer machine (session/file-transfer.ts) between two sides in memory: offers,
 * chunking and reassembly, acknowledgements, resume, cancel, refusals and the whole-file digest.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/bytes.ts';
import {
  CHUNK_OVERHEAD_BYTES,
  decodeFileEnvelope,
  encodeFileEnvelope,
} from '../src/protocol/file-envelope.ts';
import { BACKLOG_POLL_MS, DEFAULT_WINDOW, FILE_RETRANSMIT_MIN_MS } from '../src/session/file-transfer.ts';
import { fileBytes, FilePair, memorySource } from './file-pair.ts';

const typesSent = (pair: FilePair, side: 'a' | 'b') => pair.sent[side].map((b) => decodeFileEnvelope(b).type);

/** A sends `bytes` as `name`; B accepts when asked. Returns the id. */
async function sendAndAccept(pair: FilePair, bytes: Uint8Array, name = 'notes.txt', mime = 'text/plain') {
  const id = pair.transfers.a.send(memorySource(bytes), { name, mime });
  await pair.settle();
  await pair.deliver(); // the offer
  pair.transfers.b.accept(id);
  return id;
}

describe('file transfer: chunking and reassembly', () => {
  it.each([0, 1, 15, 16, 17, 1000])('a file of %i bytes arrives byte for byte', async (size) => {
    const pair = new FilePair().start();
    const bytes = fileBytes(size, size + 1);
    const id = await sendAndAccept(pair, bytes);
    await pair.run();
    expect(pair.view('b', id).state).toBe('done');
    expect(toHex(pair.view('b', id).result!)).toBe(toHex(bytes));
    expect(pair.view('a', id)).toMatchObject({ state: 'done', bytes: size, direction: 'out' });
    expect(pair.view('b', id)).toMatchObject({ bytes: size, direction: 'in', name: 'notes.txt', size });
    expect(pair.states.a.get(id)).toEqual(['offered', 'transferring', 'done']);
    expect(pair.states.b.get(id)).toEqual(['offered', 'transferring', 'done']);
  });

  it('sends offer, chunks in order, the digest; the receiver accepts, acks every four chunks, then done', async () => {
    const pair = new FilePair().start();
    await sendAndAccept(pair, fileBytes(16 * 9));
    await pair.run();
    expect(typesSent(pair, 'a')).toEqual(['offer', ...Array<string>(9).fill('chunk'), 'end']);
    expect(typesSent(pair, 'b')).toEqual(['accept', 'ack', 'ack', 'ack', 'done']);
    const acks = pair.sent.b.map(decodeFileEnvelope).flatMap((e) => (e.type === 'ack' ? [e.upTo] : []));
    expect(acks).toEqual([4, 8, 9]);
  });

  it('never has more than the window of chunks unconfirmed, nor more than two payloads queued', async () => {
    const pair = new FilePair().start();
    await sendAndAccept(pair, fileBytes(16 * 40));
    await pair.settle();
    await pair.deliver(); // the accept reaches A, which fills its window
    await pair.settle();
    expect(typesSent(pair, 'a').filter((t) => t === 'chunk')).toHaveLength(DEFAULT_WINDOW);
    await pair.run();
    expect(pair.maxPendingSends).toBeLessThanOrEqual(2);
  });

  it('the window holds over all transfers together, and five at once never stall on it', async () => {
    const pair = new FilePair().start();
    const ids = [1, 2, 3, 4, 5].map((seed) =>
      pair.transfers.a.send(memorySource(fileBytes(16 * 20, seed)), { name: `${seed}.bin`, mime: '' }),
    );
    await pair.run();
    for (const id of ids) pair.transfers.b.accept(id);
    await pair.settle();
    pair.deliverAllNow(); // the accepts
    await pair.settle();
    expect(typesSent(pair, 'a').filter((t) => t === 'chunk')).toHaveLength(DEFAULT_WINDOW);
    await pair.run(); // delayed acknowledgements only: no retransmission timer fires
    for (const [index, id] of ids.entries()) {
      expect(toHex(pair.view('b', id).result!)).toBe(toHex(fileBytes(16 * 20, index + 1)));
    }
  });

  it('two files at once take turns, chunk by chunk', async () => {
    const pair = new FilePair().start();
    const first = pair.transfers.a.send(memorySource(fileBytes(64, 1)), { name: 'one.bin', mime: '' });
    const second = pair.transfers.a.send(memorySource(fileBytes(64, 2)), { name: 'two.bin', mime: '' });
    await pair.run();
    pair.transfers.b.accept(first);
    pair.transfers.b.accept(second);
    await pair.settle();
    pair.deliverAllNow(); // both accepts reach A before it sends anything
    await pair.run();
    const order = pair.sent.a
      .map(decodeFileEnvelope)
      .filter((e) => e.type === 'chunk')
      .map((e) => toHex(e.id));
    expect(order.slice(0, 4)).toEqual([first, second, first, second]);
    expect(toHex(pair.view('b', first).result!)).toBe(toHex(fileBytes(64, 1)));
    expect(toHex(pair.view('b', second).result!)).toBe(toHex(fileBytes(64, 2)));
  });

  it('holds back while its socket is full, and carries on when it drains', async () => {
    const pair = new FilePair().start();
    pair.backlog = 10 * 1024 * 1024;
    const id = pair.transfers.a.send(memorySource(fileBytes(100)), { name: 'cat.png', mime: 'image/png' });
    await pair.run();
    expect(typesSent(pair, 'a')).toEqual([]);
    expect(pair.timers.map((t) => t.ms)).toContain(BACKLOG_POLL_MS);
    pair.backlog = 0;
    pair.fireTimers();
    await pair.run();
    expect(pair.view('b', id).state).toBe('done');
  });

  it('reports speed and time left while transferring', async () => {
    const pair = new FilePair().start();
    const id = await sendAndAccept(pair, fileBytes(16 * 20));
    await pair.settle();
    for (let i = 0; i < 6; i++) {
      pair.advance(200);
      await pair.deliver();
    }
    const view = pair.view('b', id);
    expect(view.state).toBe('transferring');
    expect(view.bytesPerSecond).toBeGreaterThan(0);
    expect(view.secondsLeft).toBeGreaterThan(0);
  });
});

describe('file transfer: accepting and refusing', () => {
  it('accepts small images without asking, and asks for anything else', async () => {
    const pair = new FilePair().start();
    const image = pair.transfers.a.send(memorySource(fileBytes(40)), { name: 'cat.png', mime: 'image/png' });
    const pdf = pair.transfers.a.send(memorySource(fileBytes(40)), {
      name: 'cv.pdf',
      mime: 'application/pdf',
    });
    const svg = pair.transfers.a.send(memorySource(fileBytes(40)), { name: 'x.svg', mime: 'image/svg+xml' });
    await pair.run();
    expect(pair.view('b', image).state).toBe('done');
    expect(pair.view('b', pdf).state).toBe('offered');
    expect(pair.view('b', svg).state).toBe('offered');
  });

  it('asks for images above the auto-accept size', async () => {
    const pair = new FilePair({ b: { autoAcceptBytes: 39 } }).start();
    const image = pair.transfers.a.send(memorySource(fileBytes(40)), { name: 'cat.png', mime: 'image/png' });
    await pair.run();
    expect(pair.view('b', image).state).toBe('offered');
  });

  it('a rule of its own replaces the image rule: accept everything, or nothing', async () => {
    const pair = new FilePair({ b: { autoAccept: (meta) => meta.name.endsWith('.pdf') } }).start();
    const pdf = pair.transfers.a.send(memorySource(fileBytes(40)), {
      name: 'cv.pdf',
      mime: 'application/pdf',
    });
    const image = pair.transfers.a.send(memorySource(fileBytes(40)), { name: 'cat.png', mime: 'image/png' });
    await pair.run();
    expect(pair.view('b', pdf).state).toBe('done');
    expect(pair.view('b', image).state).toBe('offered');
  });

  it('refuses a file over the limit before anything is sent', async () => {
    const pair = new FilePair({ a: { maxFileBytes: 100 } }).start();
    expect(() => pair.transfers.a.send(memorySource(fileBytes(101)), { name: 'big', mime: '' })).toThrow(
      expect.objectContaining({ code: 'too-large' }),
    );
    await pair.run();
    expect(pair.sent.a).toEqual([]);
    expect(pair.transfers.a.views()).toEqual([]);
  });

  it('a receiver with a smaller limit refuses the offer: too-large on both sides', async () => {
    const pair = new FilePair({ b: { maxFileBytes: 100 } }).start();
    const id = pair.transfers.a.send(memorySource(fileBytes(101)), { name: 'big', mime: '' });
    await pair.run();
    expect(pair.view('a', id)).toMatchObject({ state: 'failed', code: 'too-large' });
    expect(pair.view('b', id)).toMatchObject({ state: 'failed', code: 'too-large' });
    expect(pair.sinks).toEqual([]);
  });

  it('declining an offer cancels it on both sides; nothing was opened', async () => {
    const pair = new FilePair().start();
    const id = pair.transfers.a.send(memorySource(fileBytes(40)), {
      name: 'cv.pdf',
      mime: 'application/pdf',
    });
    await pair.run();
    pair.transfers.b.cancel(id);
    await pair.run();
    expect(pair.view('a', id)).toMatchObject({ state: 'cancelled', cancelledBy: 'partner', declined: true });
    expect(pair.view('b', id)).toMatchObject({ state: 'cancelled', cancelledBy: 'you', declined: true });
    expect(pair.sinks).toEqual([]);
  });

  it('refuses names and types that cannot travel', () => {
    const pair = new FilePair().start();
    expect(() => pair.transfers.a.send(memorySource(fileBytes(1)), { name: 'a\ud800', mime: '' })).toThrow(
      expect.objectContaining({ code: 'bad-input' }),
    );
  });

  it('a suite without binary payloads (des: maxBytes 0) offers no files', () => {
    const pair = new FilePair({ chunkBytes: -CHUNK_OVERHEAD_BYTES }).start();
    expect(pair.transfers.a.supported).toBe(false);
    expect(() => pair.transfers.a.send(memorySource(fileBytes(1)), { name: 'a', mime: '' })).toThrow(
      expect.objectContaining({ code: 'files-unsupported' }),
    );
  });
});

describe('file transfer: cancel', () => {
  it('the sender cancels mid-transfer: both sides cancelled, the partial file thrown away', async () => {
    const pair = new FilePair().start();
    const id = await sendAndAccept(pair, fileBytes(16 * 30));
    for (let i = 0; i < 6; i++) await pair.deliver();
    expect(pair.view('b', id).state).toBe('transferring');
    pair.transfers.a.cancel(id);
    await pair.run();
    expect(pair.view('a', id)).toMatchObject({ state: 'cancelled', cancelledBy: 'you' });
    expect(pair.view('b', id)).toMatchObject({
      state: 'cancelled',
      cancelledBy: 'partner',
      result: undefined,
    });
    expect(pair.sinks[0]).toMatchObject({ aborted: true, closed: false, written: [] });
  });

  it('the receiver cancels mid-transfer: the sender stops reading', async () => {
    const pair = new FilePair().start();
    const source = memorySource(fileBytes(16 * 30));
    const id = pair.transfers.a.send(source, { name: 'x', mime: '' });
    await pair.run();
    pair.transfers.b.accept(id);
    for (let i = 0; i < 6; i++) await pair.deliver();
    pair.transfers.b.cancel(id);
    await pair.run();
    const reads = source.reads;
    pair.fireTimers();
    await pair.run();
    expect(source.reads).toBe(reads);
    expect(pair.view('a', id)).toMatchObject({ state: 'cancelled', cancelledBy: 'partner', declined: false });
    expect(pair.view('b', id)).toMatchObject({ state: 'cancelled', cancelledBy: 'you' });
    expect(pair.sinks[0]?.aborted).toBe(true);
  });

  it('cancelled while its sink opens: the sink is thrown away, and settled() waits for that', async () => {
    const pair = new FilePair({ slowSinks: true }).start();
    const id = pair.transfers.a.send(memorySource(fileBytes(100)), { name: 'x', mime: '' });
    await pair.run();
    pair.transfers.b.accept(id); // opening the sink takes a turn
    pair.transfers.b.ended('left');
    await pair.transfers.b.settled();
    expect(pair.sinks).toEqual([{ written: [], closed: false, aborted: true }]);
    expect(pair.view('b', id).state).toBe('cancelled');
  });

  it('leaving the conversation cancels every transfer and leaves nothing behind', async () => {
    const pair = new FilePair().start();
    const id = await sendAndAccept(pair, fileBytes(16 * 30));
    for (let i = 0; i < 6; i++) await pair.deliver();
    pair.transfers.b.ended('left');
    pair.transfers.a.ended('connection-lost');
    await pair.transfers.b.settled();
    expect(pair.view('b', id)).toMatchObject({ state: 'cancelled' });
    expect(pair.view('a', id)).toMatchObject({ state: 'failed', code: 'connection-lost' });
    expect(pair.sinks[0]).toMatchObject({ aborted: true, written: [] });
  });
});

describe('file transfer: integrity', () => {
  it('a chunk whose bytes differ from the digest makes the file tampered: nothing is offered', async () => {
    const pair = new FilePair().start();
    const id = await sendAndAccept(pair, fileBytes(100));
    pair.tap = (from, bytes) => {
      const envelope = decodeFileEnvelope(bytes);
      if (envelope.type !== 'chunk' || envelope.index !== 3) return bytes;
      envelope.bytes[5]! ^= 0x01;
      return encodeFileEnvelope(envelope);
    };
    await pair.run();
    expect(pair.view('b', id)).toMatchObject({ state: 'failed', code: 'tampered', result: undefined });
    expect(pair.view('a', id)).toMatchObject({ state: 'failed', code: 'tampered' });
    expect(pair.sinks[0]).toMatchObject({ aborted: true, closed: false, written: [] });
  });

  it('any flipped bit in the file data is caught by the digest', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 200 }), fc.nat(), fc.nat(), async (size, seed, bit) => {
        const pair = new FilePair().start();
        const bytes = fileBytes(size, seed + 1);
        const id = await sendAndAccept(pair, bytes);
        const target = bit % (size * 8);
        let flipped = false;
        pair.tap = (from, payload) => {
          const envelope = decodeFileEnvelope(payload);
          if (flipped || envelope.type !== 'chunk') return payload;
          const start = envelope.index * 16;
          if (target < start * 8 || target >= (start + envelope.bytes.length) * 8) return payload;
          flipped = true;
          envelope.bytes[(target >> 3) - start]! ^= 1 << (target & 7);
          return encodeFileEnvelope(envelope);
        };
        await pair.run();
        expect(flipped).toBe(true);
        expect(pair.view('b', id)).toMatchObject({ state: 'failed', code: 'tampered', result: undefined });
      }),
      { numRuns: 60 },
    );
  });

  it('a sender that breaks the protocol (a chunk of the wrong length) fails that transfer only', async () => {
    const pair = new FilePair().start();
    const id = await sendAndAccept(pair, fileBytes(100));
    pair.tap = (from, bytes) => {
      const envelope = decodeFileEnvelope(bytes);
      if (envelope.type !== 'chunk' || envelope.index !== 1) return bytes;
      return encodeFileEnvelope({ ...envelope, bytes: envelope.bytes.subarray(1) });
    };
    await pair.run();
    expect(pair.view('b', id)).toMatchObject({ state: 'failed', code: 'transfer-failed' });
    expect(pair.view('a', id)).toMatchObject({ state: 'failed', code: 'transfer-failed' });
    pair.tap = undefined;
    const next = await sendAndAccept(pair, fileBytes(50));
    await pair.run();
    expect(pair.view('b', next).state).toBe('done');
  });

  it('ignores payloads that are not file envelopes', async () => {
    const pair = new FilePair().start();
    pair.transfers.b.receive(Uint8Array.of(9, 9, 9));
    await pair.run();
    expect(pair.sent.b).toEqual([]);
  });
});

describe('file transfer: failures on either side', () => {
  it('a file that cannot be read fails on both sides', async () => {
    const pair = new FilePair().start();
    const source = memorySource(fileBytes(100));
    const id = pair.transfers.a.send(source, { name: 'x', mime: '' });
    await pair.run();
    source.fail = true;
    pair.transfers.b.accept(id);
    await pair.run();
    expect(pair.view('a', id)).toMatchObject({ state: 'failed', code: 'file-read-failed' });
    expect(pair.view('b', id)).toMatchObject({ state: 'failed', code: 'transfer-failed' });
    expect(pair.sinks[0]?.aborted).toBe(true);
  });

  it('a file that cannot be stored fails on both sides', async () => {
    const pair = new FilePair({ failWrites: true }).start();
    const id = await sendAndAccept(pair, fileBytes(100));
    await pair.run();
    expect(pair.view('b', id)).toMatchObject({ state: 'failed', code: 'file-write-failed' });
    expect(pair.view('a', id)).toMatchObject({ state: 'failed', code: 'transfer-failed' });
  });

  it('a partner that no longer knows the transfer (reloaded) ends it as transfer-lost', async () => {
    const pair = new FilePair().start();
    const id = await sendAndAccept(pair, fileBytes(16 * 30));
    for (let i = 0; i < 4; i++) await pair.deliver();
    pair.cut();
    pair.reload('b');
    pair.restore();
    await pair.run();
    expect(pair.view('a', id)).toMatchObject({ state: 'failed', code: 'transfer-lost' });
  });
});

describe('file transfer: resume', () => {
  it('a cut path resumes from the last chunk the receiver confirmed, not from the start', async () => {
    const pair = new FilePair().start();
    const bytes = fileBytes(16 * 40);
    const id = await sendAndAccept(pair, bytes);
    for (let i = 0; i < 25; i++) await pair.deliver();
    const confirmed = pair.view('a', id).bytes / 16;
    expect(confirmed).toBeGreaterThan(4);
    pair.cut();
    const before = pair.sent.a.length;
    pair.restore();
    await pair.run();
    expect(toHex(pair.view('b', id).result!)).toBe(toHex(bytes));
    const resent = pair.sent.a.slice(before).map(decodeFileEnvelope);
    const first = resent.find((e) => e.type === 'chunk');
    expect(first?.type === 'chunk' && first.index).toBeGreaterThanOrEqual(confirmed);
  });

  it('a lost accept, ack, digest or done is recovered by the retransmission timer', async () => {
    for (const lost of ['accept', 'ack', 'end', 'done'] as const) {
      const pair = new FilePair().start();
      const bytes = fileBytes(16 * 6);
      let dropped = false;
      pair.tap = (from, payload) => {
        if (dropped || decodeFileEnvelope(payload).type !== lost) return payload;
        dropped = true;
        return undefined;
      };
      const id = await sendAndAccept(pair, bytes);
      await pair.run();
      for (let i = 0; i < 3 && pair.view('a', id).state !== 'done'; i++) {
        expect(pair.timers.some((t) => t.ms === FILE_RETRANSMIT_MIN_MS << i)).toBe(true);
        pair.fireTimers();
        await pair.run();
      }
      expect(dropped).toBe(true);
      expect(pair.view('a', id).state).toBe('done');
      expect(toHex(pair.view('b', id).result!)).toBe(toHex(bytes));
    }
  });

  it('any order the delivery layer allows (loss, duplicates, reordering, cuts) gives the same file', async () => {
    const action = fc.oneof(
      fc.record({ kind: fc.constant('deliver' as const), index: fc.nat(3) }),
      fc.record({ kind: fc.constant('drop' as const), index: fc.nat(3) }),
      fc.record({ kind: fc.constant('duplicate' as const), index: fc.nat(3) }),
      fc.record({ kind: fc.constant('cut' as const) }),
      fc.record({ kind: fc.constant('timer' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 300 }),
        fc.array(action, { maxLength: 120 }),
        async (size, actions) => {
          const pair = new FilePair().start();
          const bytes = fileBytes(size, size + 7);
          const id = pair.transfers.a.send(memorySource(bytes), { name: 'x.png', mime: 'image/png' });
          await pair.settle();
          for (const step of actions) {
            if (step.kind === 'cut') {
              pair.cut();
              pair.restore();
            } else if (step.kind === 'timer') pair.fireTimers();
            else if (pair.queue.length > 0) {
              const index = step.index % pair.queue.length;
              if (step.kind === 'drop') pair.queue.splice(index, 1);
              else if (step.kind === 'duplicate') pair.queue.push({ ...pair.queue[index]! });
              else await pair.deliver(index);
            }
            await pair.settle();
          }
          // Then the network heals: everything goes through, timers fire while anything is missing.
          for (let round = 0; round < 10 && pair.view('a', id).state !== 'done'; round++) {
            await pair.run();
            pair.fireTimers();
          }
          await pair.run();
          expect(pair.view('a', id).state).toBe('done');
          expect(pair.view('b', id).state).toBe('done');
          expect(toHex(pair.view('b', id).result!)).toBe(toHex(bytes));
          expect(pair.sinks).toHaveLength(1);
        },
      ),
      { numRuns: 80 },
    );
  });
});
