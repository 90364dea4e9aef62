/**
 * The file transfer machine (session/file-transfer.ts) at its edges: limits exactly at their
 * value, endings, answers to envelopes it did not expect, the retransmission back-off, the
 * pipeline, and the wiring to a conversation. The main flows are in file-transfer.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { concatBytes, partsOf } from '../src/bytes.ts';
import {
  CHUNK_OVERHEAD_BYTES,
  decodeFileEnvelope,
  encodeFileEnvelope,
  type FileEnvelope,
} from '../src/protocol/file-envelope.ts';
import type { PayloadHandler, PayloadPort } from '../src/session/payloads.ts';
import {
  attachFileTransfers,
  BACKLOG_HIGH_BYTES,
  BACKLOG_POLL_MS,
  FILE_RETRANSMIT_MAX_MS,
  FILE_RETRANSMIT_MIN_MS,
  MAX_ACTIVE_INCOMING,
} from '../src/session/file-transfer.ts';
import { fileBytes, FilePair, memorySource } from './file-pair.ts';

const sentBy = (pair: FilePair, side: 'a' | 'b') => pair.sent[side].map(decodeFileEnvelope);
const typesSent = (pair: FilePair, side: 'a' | 'b') => sentBy(pair, side).map((e) => e.type);
const cancelsSent = (pair: FilePair, side: 'a' | 'b') =>
  sentBy(pair, side).flatMap((e) => (e.type === 'cancel' ? [e.reason] : []));
const rawId = (id: string) => new Uint8Array(Buffer.from(id, 'hex'));
const retransmits = (pair: FilePair) =>
  pair.timers.filter((t) => t.ms >= FILE_RETRANSMIT_MIN_MS).map((t) => t.ms);

async function started(pair: FilePair, size = 16 * 30, name = 'x.bin', mime = '') {
  const id = pair.transfers.a.send(memorySource(fileBytes(size)), { name, mime });
  await pair.settle();
  await pair.deliver(); // the offer
  return id;
}

describe('file transfer edges: limits exactly at their value', () => {
  it('a file of exactly maxFileBytes is sent and received; one byte more is too-large on each side', async () => {
    const pair = new FilePair({ a: { maxFileBytes: 100 }, b: { maxFileBytes: 100, autoAccept: () => true } });
    pair.start();
    expect(pair.transfers.a.maxFileBytes).toBe(100);
    const id = pair.transfers.a.send(memorySource(fileBytes(100)), { name: 'x', mime: '' });
    await pair.run();
    expect(pair.view('b', id).state).toBe('done');
    expect(() => pair.transfers.a.send(memorySource(fileBytes(101)), { name: 'x', mime: '' })).toThrow(
      expect.objectContaining({ code: 'too-large' }),
    );
    const small = new FilePair({ b: { maxFileBytes: 99 } }).start();
    const refused = small.transfers.a.send(memorySource(fileBytes(100)), { name: 'x', mime: '' });
    await small.run();
    expect(small.view('b', refused)).toMatchObject({ state: 'failed', code: 'too-large' });
    expect(small.view('a', refused)).toMatchObject({ state: 'failed', code: 'too-large' });
    expect(cancelsSent(small, 'b')).toEqual(['too-large']);
  });

  it('an image of exactly the auto-accept size is accepted without asking', async () => {
    const pair = new FilePair({ b: { autoAcceptBytes: 64 } }).start();
    const id = pair.transfers.a.send(memorySource(fileBytes(64)), { name: 'a.png', mime: 'image/png' });
    await pair.run();
    expect(pair.view('b', id).state).toBe('done');
  });

  it(`at most ${MAX_ACTIVE_INCOMING} offers wait at once; the next is refused as failed`, async () => {
    // Each file is exactly at the receiver's size limit: the refusal is for the count, not the size.
    const pair = new FilePair({ b: { autoAccept: () => false, maxFileBytes: 1 } }).start();
    const ids = Array.from({ length: MAX_ACTIVE_INCOMING + 1 }, () =>
      pair.transfers.a.send(memorySource(fileBytes(1)), { name: 'x', mime: '' }),
    );
    await pair.run();
    expect(ids.slice(0, -1).map((id) => pair.view('b', id).state)).toEqual(
      Array<string>(MAX_ACTIVE_INCOMING).fill('offered'),
    );
    expect(pair.view('b', ids.at(-1)!)).toMatchObject({ state: 'failed', code: 'transfer-failed' });
    expect(pair.view('a', ids.at(-1)!)).toMatchObject({ state: 'failed', code: 'transfer-failed' });
    expect(cancelsSent(pair, 'b')).toEqual(['failed']);
    // One that ended no longer counts: a new offer then waits too.
    pair.transfers.b.cancel(ids[0]!);
    const another = pair.transfers.a.send(memorySource(fileBytes(1)), { name: 'x', mime: '' });
    await pair.run();
    expect(pair.view('b', another).state).toBe('offered');
  });

  it('a port whose payloads hold the envelope and no file byte carries no files', () => {
    const port = (maxBytes: number): PayloadPort => ({ maxBytes, backlog: 0, send: async () => true });
    const at = (maxBytes: number) =>
      attachFileTransfers(
        { attachPayloads: () => port(maxBytes) },
        {
          timers: { set: () => 0, clear: () => {} },
          openSink: async () => ({}) as never,
          onChange: () => {},
        },
      );
    expect(at(CHUNK_OVERHEAD_BYTES).supported).toBe(false);
    expect(at(CHUNK_OVERHEAD_BYTES + 1).supported).toBe(true);
  });

  it('the socket backlog at exactly the high mark still lets bulk go; above it, bulk waits', async () => {
    const pair = new FilePair().start();
    pair.backlog = 256 * 1024; // the high mark, BACKLOG_HIGH_BYTES
    pair.transfers.a.send(memorySource(fileBytes(10)), { name: 'x', mime: '' });
    await pair.settle();
    expect(typesSent(pair, 'a')).toEqual(['offer']);
    pair.backlog = BACKLOG_HIGH_BYTES + 1;
    pair.transfers.a.send(memorySource(fileBytes(10)), { name: 'y', mime: '' });
    await pair.settle();
    pair.transfers.a.send(memorySource(fileBytes(10)), { name: 'z', mime: '' });
    await pair.settle();
    expect(typesSent(pair, 'a')).toEqual(['offer']);
    // One poll timer at a time, however often the pump is woken.
    expect(pair.timers.filter((t) => t.ms === BACKLOG_POLL_MS)).toHaveLength(1);
    pair.backlog = 0;
    const polls = pair.timers.filter((t) => t.ms === BACKLOG_POLL_MS);
    for (const poll of polls) poll.callback();
    await pair.settle();
    expect(typesSent(pair, 'a')).toEqual(['offer', 'offer', 'offer']);
  });

  it('two payloads are sealed at once, not one, not three', async () => {
    // A port whose seals finish only when the test says so.
    const pending: (() => void)[] = [];
    const port: PayloadPort = {
      maxBytes: CHUNK_OVERHEAD_BYTES + 16,
      backlog: 0,
      send: () => new Promise((resolve) => pending.push(() => resolve(true))),
    };
    let handler: PayloadHandler | undefined;
    const transfers = attachFileTransfers(
      {
        attachPayloads(h) {
          handler = h;
          return port;
        },
      },
      { timers: { set: () => 0, clear: () => {} }, openSink: async () => ({}) as never, onChange: () => {} },
    );
    handler!.pathUp();
    const id = transfers.send(memorySource(fileBytes(16 * 20)), { name: 'x', mime: '' });
    const turn = async () => {
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    await turn();
    expect(pending).toHaveLength(1); // the offer
    pending.shift()!();
    handler!.receive(encodeFileEnvelope({ type: 'accept', id: rawId(id), from: 0 }));
    await turn();
    expect(pending).toHaveLength(2);
    pending.shift()!();
    await turn();
    expect(pending).toHaveLength(2);
  });
});

describe('file transfer edges: endings', () => {
  it('after the conversation ended nothing can be sent, and nothing goes out', async () => {
    const pair = new FilePair().start();
    const id = await started(pair);
    pair.transfers.b.accept(id);
    for (let i = 0; i < 3; i++) await pair.deliver();
    pair.transfers.a.ended('connection-lost');
    expect(() => pair.transfers.a.send(memorySource(fileBytes(1)), { name: 'x', mime: '' })).toThrow(
      expect.objectContaining({ code: 'no-partner' }),
    );
    const before = pair.sent.a.length;
    pair.transfers.a.cancel(id);
    pair.transfers.a.receive(encodeFileEnvelope({ type: 'ack', id: rawId(id), upTo: 1 })); // no answer
    pair.fireTimers();
    await pair.settle();
    expect(pair.sent.a.length).toBe(before);
    expect(pair.timers).toEqual([]);
  });

  it('leaving cancels outgoing transfers as by this side, and stops polling a full socket', async () => {
    const pair = new FilePair().start();
    pair.backlog = BACKLOG_HIGH_BYTES + 1;
    const id = pair.transfers.a.send(memorySource(fileBytes(10)), { name: 'x', mime: '' });
    await pair.settle();
    expect(pair.timers.filter((t) => t.ms === BACKLOG_POLL_MS)).toHaveLength(1);
    pair.transfers.a.ended('left');
    expect(pair.view('a', id)).toMatchObject({ state: 'cancelled', cancelledBy: 'you', code: undefined });
    expect(pair.timers).toEqual([]);
  });

  it('a transfer that already ended is not reported again when the conversation ends', async () => {
    let changes = 0;
    const pair = new FilePair({ a: { onChange: () => void (changes += 1) } }).start();
    const id = await started(pair, 20);
    pair.transfers.b.accept(id);
    await pair.run();
    expect(pair.transfers.a.views()[0]?.state).toBe('done');
    const before = changes;
    pair.transfers.a.ended('connection-lost');
    expect(changes).toBe(before);
    expect(pair.transfers.a.views()[0]?.state).toBe('done');
  });

  it('a failure of this side while preparing a chunk (not a read) ends the transfer as file-read-failed', async () => {
    const broken = () => ({
      update: () => {
        throw new Error('no hash today');
      },
      digest: () => new Uint8Array(32),
    });
    const pair = new FilePair({ a: { hash: broken } }).start();
    const id = await started(pair, 20);
    pair.transfers.b.accept(id);
    await pair.run();
    expect(pair.view('a', id)).toMatchObject({ state: 'failed', code: 'file-read-failed' });
    expect(pair.view('b', id)).toMatchObject({ state: 'failed', code: 'transfer-failed' });
  });

  it('ending with a code fails every incoming transfer with it, and tells nobody', async () => {
    const pair = new FilePair().start();
    const id = await started(pair);
    pair.transfers.b.accept(id);
    for (let i = 0; i < 3; i++) await pair.deliver();
    const before = pair.sent.b.length;
    pair.transfers.b.ended('connection-lost');
    await pair.transfers.b.settled();
    expect(pair.view('b', id)).toMatchObject({ state: 'failed', code: 'connection-lost' });
    expect(pair.sent.b.length).toBe(before);
  });

  it('leaving cancels incoming transfers without a word (the conversation says goodbye)', async () => {
    const pair = new FilePair().start();
    const id = await started(pair);
    pair.transfers.b.accept(id);
    await pair.settle();
    const before = pair.sent.b.length;
    pair.transfers.b.ended('left');
    await pair.transfers.b.settled();
    expect(pair.view('b', id)).toMatchObject({ state: 'cancelled', cancelledBy: 'you' });
    expect(pair.sent.b.length).toBe(before);
  });

  it('the partner’s cancel reason becomes the code: too-large, tampered, transfer-lost, transfer-failed', async () => {
    const cases: [FileEnvelope['type'] extends never ? never : string, string | undefined][] = [
      ['too-large', 'too-large'],
      ['tampered', 'tampered'],
      ['unknown', 'transfer-lost'],
      ['failed', 'transfer-failed'],
      ['cancelled', undefined],
      ['declined', undefined],
    ];
    for (const [reason, code] of cases) {
      const pair = new FilePair().start();
      const id = await started(pair);
      pair.transfers.a.receive(
        encodeFileEnvelope({
          type: 'cancel',
          id: rawId(id),
          reason,
        } as FileEnvelope),
      );
      const view = pair.view('a', id);
      if (code) expect(view).toMatchObject({ state: 'failed', code });
      else
        expect(view).toMatchObject({
          state: 'cancelled',
          cancelledBy: 'partner',
          declined: reason === 'declined',
        });
    }
  });

  it('an ended outgoing transfer repeats how it ended to a receiver that still writes about it', async () => {
    for (const [end, reason] of [
      ['cancel', 'cancelled'],
      ['fail', 'failed'],
    ] as const) {
      const pair = new FilePair().start();
      const source = memorySource(fileBytes(16 * 30));
      const id = pair.transfers.a.send(source, { name: 'x', mime: '' });
      await pair.run();
      pair.transfers.b.accept(id);
      await pair.settle();
      if (end === 'fail') source.fail = true; // the first chunk cannot be read
      await pair.deliver(); // the accept
      if (end === 'cancel') pair.transfers.a.cancel(id);
      await pair.settle();
      expect(pair.view('a', id).state).toBe(end === 'cancel' ? 'cancelled' : 'failed');
      pair.queue = pair.queue.filter((item) => item.to === 'a'); // A's news is lost on the way
      const ack = encodeFileEnvelope({ type: 'ack', id: rawId(id), upTo: 0 });
      const before = cancelsSent(pair, 'a').length;
      pair.transfers.a.receive(ack);
      await pair.settle();
      expect(cancelsSent(pair, 'a').slice(before)).toEqual([reason]);
    }
  });

  it('a finished (done) outgoing transfer says nothing more to a late ack', async () => {
    const pair = new FilePair().start();
    const id = await started(pair, 20);
    pair.transfers.b.accept(id);
    await pair.run();
    expect(pair.view('a', id).state).toBe('done');
    const before = pair.sent.a.length;
    pair.transfers.a.receive(encodeFileEnvelope({ type: 'ack', id: rawId(id), upTo: 1 }));
    await pair.settle();
    expect(pair.sent.a.length).toBe(before);
  });
});

describe('file transfer edges: envelopes out of place', () => {
  it('a sender-side envelope for an outgoing transfer fails it, and says so', async () => {
    const pair = new FilePair().start();
    const id = await started(pair);
    const raw = rawId(id);
    pair.transfers.a.receive(encodeFileEnvelope({ type: 'end', id: raw, sha256: new Uint8Array(32) }));
    expect(pair.view('a', id)).toMatchObject({ state: 'failed', code: 'transfer-failed' });
    await pair.settle();
    expect(cancelsSent(pair, 'a')).toEqual(['failed']);
  });

  it('a receiver-side envelope for an incoming transfer fails it, and says so', async () => {
    const pair = new FilePair().start();
    const id = await started(pair);
    pair.transfers.b.accept(id);
    await pair.settle();
    const raw = rawId(id);
    pair.transfers.b.receive(encodeFileEnvelope({ type: 'ack', id: raw, upTo: 0 }));
    expect(pair.view('b', id)).toMatchObject({ state: 'failed', code: 'transfer-failed' });
    await pair.settle();
    expect(cancelsSent(pair, 'b')).toEqual(['failed']);
  });

  it('a fault of this side (an onChange that throws) is not blamed on the partner', async () => {
    let faults = 1;
    const onChange = () => {
      if (faults-- > 0) throw new Error('a bug in the page');
    };
    const pair = new FilePair({ b: { onChange } }).start();
    const offer = {
      type: 'offer',
      id: new Uint8Array(16).fill(7),
      size: 10,
      chunkBytes: 16,
      mime: '',
      name: 'x',
    };
    expect(() => pair.transfers.b.receive(encodeFileEnvelope(offer as FileEnvelope))).toThrow(
      'a bug in the page',
    );
    await pair.settle();
    expect(pair.sent.b).toEqual([]);
    expect(pair.transfers.b.views().map((v) => v.state)).toEqual(['offered']);
  });

  it('an ack before the accept neither starts the transfer nor wakes the pump', async () => {
    const pair = new FilePair().start();
    pair.backlog = BACKLOG_HIGH_BYTES + 1;
    const id = pair.transfers.a.send(memorySource(fileBytes(16 * 4)), { name: 'x', mime: '' });
    await pair.settle();
    pair.backlog = 0; // drained, but the pump waits for its poll
    pair.transfers.a.receive(encodeFileEnvelope({ type: 'ack', id: rawId(id), upTo: 0 }));
    await pair.settle();
    expect(pair.sent.a).toEqual([]);
    for (const poll of pair.timers.filter((t) => t.ms === BACKLOG_POLL_MS)) poll.callback();
    await pair.settle();
    expect(typesSent(pair, 'a')).toEqual(['offer']);
    expect(pair.view('a', id).state).toBe('offered');
  });

  it('an unknown transfer is answered once per path, a cancel for one not at all', async () => {
    const pair = new FilePair().start();
    const ghost = new Uint8Array(16).fill(3);
    pair.transfers.b.receive(encodeFileEnvelope({ type: 'ack', id: ghost, upTo: 1 }));
    pair.transfers.b.receive(encodeFileEnvelope({ type: 'ack', id: ghost, upTo: 2 }));
    pair.transfers.b.receive(
      encodeFileEnvelope({ type: 'cancel', id: new Uint8Array(16).fill(4), reason: 'failed' }),
    );
    await pair.settle();
    expect(cancelsSent(pair, 'b')).toEqual(['unknown']);
    pair.cut();
    pair.restore();
    pair.transfers.b.receive(encodeFileEnvelope({ type: 'ack', id: ghost, upTo: 3 }));
    await pair.settle();
    expect(cancelsSent(pair, 'b')).toEqual(['unknown', 'unknown']);
  });

  it('with the path down, nothing is posted; accept and cancel of unknown ids do nothing', async () => {
    const pair = new FilePair().start();
    pair.transfers.b.accept('00');
    pair.transfers.b.cancel('00');
    const id = await started(pair);
    pair.cut();
    pair.transfers.b.accept(id);
    pair.transfers.b.cancel(id);
    await pair.settle();
    expect(pair.sent.b).toEqual([]);
    expect(pair.view('b', id).state).toBe('cancelled');
  });

  it('views lists every transfer, outgoing then incoming', async () => {
    const pair = new FilePair().start();
    const out = pair.transfers.b.send(memorySource(fileBytes(3)), { name: 'b.txt', mime: '' });
    const incoming = await started(pair);
    expect(pair.transfers.b.views().map((v) => [v.id, v.direction])).toEqual([
      [out, 'out'],
      [incoming, 'in'],
    ]);
  });
});

describe('file transfer edges: retransmission back-off', () => {
  it('doubles from 2 s up to 30 s while nothing moves, and starts again at 2 s after progress', async () => {
    const pair = new FilePair({ b: { autoAccept: () => false } }).start();
    const id = await started(pair, 16 * 10);
    pair.queue = [];
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const retransmit = pair.timers.filter((t) => t.ms >= FILE_RETRANSMIT_MIN_MS);
      delays.push(...retransmit.map((t) => t.ms));
      pair.fireTimers();
      await pair.settle();
      pair.queue = []; // the offers go nowhere
    }
    expect(delays).toEqual([2_000, 4_000, 8_000, 16_000, FILE_RETRANSMIT_MAX_MS, FILE_RETRANSMIT_MAX_MS]);
    pair.transfers.b.accept(id);
    await pair.settle();
    await pair.deliver(); // the accept: progress
    expect(pair.timers.filter((t) => t.ms >= FILE_RETRANSMIT_MIN_MS).map((t) => t.ms)).toEqual([
      FILE_RETRANSMIT_MIN_MS,
    ]);
  });

  it('an envelope that moves nothing does not reset the back-off', async () => {
    const pair = new FilePair({ b: { autoAccept: () => false } }).start();
    const id = await started(pair, 16 * 10);
    pair.queue = [];
    pair.fireTimers();
    await pair.settle();
    expect(retransmits(pair)).toEqual([4_000]);
    pair.transfers.a.receive(encodeFileEnvelope({ type: 'ack', id: rawId(id), upTo: 0 }));
    expect(retransmits(pair)).toEqual([4_000]);
  });

  it('cancelling the only waiting transfer stops the retransmission timer', async () => {
    const pair = new FilePair().start();
    const id = pair.transfers.a.send(memorySource(fileBytes(10)), { name: 'x', mime: '' });
    await pair.settle();
    expect(retransmits(pair)).toEqual([FILE_RETRANSMIT_MIN_MS]);
    pair.transfers.a.cancel(id);
    expect(retransmits(pair)).toEqual([]);
  });

  it('no retransmission timer once nothing waits, nor while the path is down', async () => {
    const pair = new FilePair().start();
    const done = await started(pair, 10);
    pair.transfers.b.accept(done);
    await pair.run();
    expect(pair.view('a', done).state).toBe('done');
    expect(pair.timers.filter((t) => t.ms >= FILE_RETRANSMIT_MIN_MS)).toEqual([]);
    // One finished and one waiting: the waiting one still gets its timer.
    const waiting = pair.transfers.a.send(memorySource(fileBytes(10)), { name: 'x', mime: '' });
    await pair.settle();
    expect(pair.timers.filter((t) => t.ms >= FILE_RETRANSMIT_MIN_MS)).toHaveLength(1);
    pair.cut();
    expect(pair.timers.filter((t) => t.ms >= FILE_RETRANSMIT_MIN_MS)).toEqual([]);
    pair.transfers.a.cancel(waiting);
    expect(pair.timers.filter((t) => t.ms >= FILE_RETRANSMIT_MIN_MS)).toEqual([]);
  });
});

describe('file transfer edges: wiring to a conversation', () => {
  it('attachFileTransfers hands the conversation a handler that reaches the transfers', async () => {
    const sent: Uint8Array[] = [];
    let handler: PayloadHandler | undefined;
    const port: PayloadPort = {
      maxBytes: CHUNK_OVERHEAD_BYTES + 16,
      backlog: 0,
      send: async (payload) => {
        sent.push(concatBytes(...partsOf(payload)));
        return true;
      },
    };
    const views: string[] = [];
    const transfers = attachFileTransfers(
      {
        attachPayloads(h) {
          handler = h;
          return port;
        },
      },
      {
        timers: { set: () => 0, clear: () => {} },
        openSink: async () => ({
          write: async () => {},
          close: async () => new Uint8Array(),
          abort: async () => {},
        }),
        onChange: (view) => void views.push(`${view.direction} ${view.state}`),
        autoAccept: () => true,
      },
    );
    handler!.pathUp();
    const id = transfers.send(memorySource(fileBytes(3)), { name: 'x', mime: '' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent.map((b) => decodeFileEnvelope(b).type)).toEqual(['offer']);
    handler!.pathDown();
    transfers.cancel(id);
    expect(sent).toHaveLength(1); // path down: the cancel is not posted
    handler!.receive(
      encodeFileEnvelope({
        type: 'offer',
        id: new Uint8Array(16).fill(5),
        size: 0,
        chunkBytes: 16,
        mime: '',
        name: 'in',
      }),
    );
    expect(views).toContain('in offered');
    handler!.ended('left');
    expect(transfers.views().find((v) => v.direction === 'in')?.state).toBe('cancelled');
  });
});

describe('file transfer edges: the default clock', () => {
  it('without a clock given, the speed is measured on the system clock', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(1_000_000);
      const port: PayloadPort = { maxBytes: CHUNK_OVERHEAD_BYTES + 16, backlog: 0, send: async () => true };
      let handler: PayloadHandler | undefined;
      const speeds: (number | undefined)[] = [];
      const transfers = attachFileTransfers(
        {
          attachPayloads(h) {
            handler = h;
            return port;
          },
        },
        {
          timers: { set: () => 0, clear: () => {} },
          openSink: async () => ({}) as never,
          onChange: (view) => void (view.state === 'transferring' && speeds.push(view.bytesPerSecond)),
        },
      );
      handler!.pathUp();
      const id = transfers.send(memorySource(fileBytes(16 * 4)), { name: 'x', mime: '' });
      handler!.receive(encodeFileEnvelope({ type: 'accept', id: rawId(id), from: 0 }));
      vi.setSystemTime(1_001_000);
      handler!.receive(encodeFileEnvelope({ type: 'ack', id: rawId(id), upTo: 1 }));
      expect(speeds).toEqual([undefined, 16]); // too early to tell, then 16 bytes in a second
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('file transfer edges: wiring before the transfers exist', () => {
  it('a conversation that calls the handler while attaching it is ignored until then', () => {
    const port: PayloadPort = { maxBytes: CHUNK_OVERHEAD_BYTES + 16, backlog: 0, send: async () => true };
    const offer = encodeFileEnvelope({
      type: 'offer',
      id: new Uint8Array(16).fill(5),
      size: 0,
      chunkBytes: 16,
      mime: '',
      name: 'in',
    });
    const transfers = attachFileTransfers(
      {
        attachPayloads(handler) {
          handler.receive(offer);
          handler.pathUp();
          handler.pathDown();
          handler.ended('left');
          return port;
        },
      },
      { timers: { set: () => 0, clear: () => {} }, openSink: async () => ({}) as never, onChange: () => {} },
    );
    expect(transfers.views()).toEqual([]);
    expect(() => transfers.send(memorySource(fileBytes(1)), { name: 'x', mime: '' })).not.toThrow();
  });
});

describe('file transfer edges: the path', () => {
  it('nothing goes out before the path is up; the offer leaves when it comes up', async () => {
    const pair = new FilePair();
    pair.transfers.a.send(memorySource(fileBytes(10)), { name: 'x', mime: '' });
    await pair.settle();
    expect(pair.sent.a).toEqual([]);
    pair.start();
    await pair.settle();
    expect(typesSent(pair, 'a')).toEqual(['offer']);
  });

  it('when the path comes back the receiver says at once where it is', async () => {
    const pair = new FilePair().start();
    const id = await started(pair, 16 * 30);
    pair.transfers.b.accept(id);
    for (let i = 0; i < 8; i++) await pair.deliver();
    pair.cut();
    const before = pair.sent.b.length;
    pair.restore();
    await pair.settle();
    const stored = pair.view('b', id).bytes / 16;
    expect(sentBy(pair, 'b').slice(before)).toEqual([{ type: 'ack', id: rawId(id), upTo: stored }]);
  });

  it('a cancelled transfer no longer takes a share of the window', async () => {
    const pair = new FilePair({ b: { autoAccept: () => true } }).start();
    const first = pair.transfers.a.send(memorySource(fileBytes(16 * 30)), { name: 'one', mime: '' });
    await pair.settle();
    await pair.deliver(); // offer
    await pair.deliver(); // accept: A fills the window with the first file's chunks
    const chunks = () => sentBy(pair, 'a').filter((e) => e.type === 'chunk').length;
    expect(chunks()).toBe(8);
    pair.queue = [];
    pair.transfers.a.cancel(first);
    const second = pair.transfers.a.send(memorySource(fileBytes(16 * 30)), { name: 'two', mime: '' });
    await pair.settle();
    await pair.deliver(); // the cancel
    await pair.deliver(); // the offer of the second
    await pair.deliver(); // its accept
    expect(pair.view('a', second).state).toBe('transferring');
    expect(chunks()).toBe(16);
  });
});
