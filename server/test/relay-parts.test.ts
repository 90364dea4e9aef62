import type { ServerMessage } from '@duet/core/protocol/control';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_LIMITS } from '../src/limits.ts';
import { ACK_DELAY_MS, createRelay, type Link, type LinkEvents } from '../src/relay.ts';
import { WorkQueue } from '../src/relay/work-queue.ts';
import { WriteBatch } from '../src/relay/write-batch.ts';

/** A connection carried by nothing but memory: what a non-WebSocket transport hands the relay. */
class MemoryLink implements Link {
  open = true;
  bufferedBytes = 0;
  readonly received: (ServerMessage | Buffer)[] = [];
  readonly calls: string[] = [];
  events!: LinkEvents;
  closedWith: number | undefined;

  sendControl(message: ServerMessage): void {
    if (message.type === 'ack') this.calls.push(`ack ${message.frames}`);
    else this.received.push(message);
  }
  sendBinary(data: Buffer): void {
    this.calls.push('binary');
    this.received.push(data);
  }
  close(code: number): void {
    this.open = false;
    this.closedWith = code;
    this.events.closed(code);
  }
  terminate(): void {
    this.close(1006);
  }
  ping(): void {}
  cork(): void {
    this.calls.push('cork');
  }
  uncork(): void {
    this.calls.push('uncork');
  }
  send(value: unknown): void {
    this.events.message(Buffer.from(JSON.stringify(value)), false);
  }
}

describe('relay: any transport through Link', () => {
  it('seats, relays and grants handshakes to connections that are not WebSockets', async () => {
    const relay = createRelay({ ...DEFAULT_LIMITS, allowedOrigins: [] });
    const [a, b] = [new MemoryLink(), new MemoryLink()];
    a.events = relay.attach(a, '192.0.2.1');
    b.events = relay.attach(b, '192.0.2.2');
    a.send({ type: 'join', room: 'memory-room', suite: 'des' });
    b.send({ type: 'join', room: 'memory-room', suite: 'des' });
    await vi.waitFor(() => expect(a.received).toContainEqual({ type: 'partner-joined' }));
    expect(b.received[0]).toMatchObject({ type: 'joined', role: 'responder', partner: true });
    a.events.message(Buffer.from('opaque bytes'), true);
    await vi.waitFor(() => expect(b.received.at(-1)).toEqual(Buffer.from('opaque bytes')));
    a.send({ type: 'handshake' });
    await vi.waitFor(() => expect(b.received.at(-1)).toMatchObject({ type: 'handshake', attempt: 1 }));
    expect(relay.stats()).toEqual({ connections: 2, rooms: 1 });
    a.close(1000);
    await vi.waitFor(() => expect(b.received.at(-1)).toEqual({ type: 'partner-left' }));
    await relay.close();
    expect(b.closedWith).toBe(1001);
  });
});

describe('relay: every byte queued for a connection counts against maxBufferedBytes', () => {
  const MAX = 64 * 1024;
  async function connected(room?: string) {
    const relay = createRelay({ ...DEFAULT_LIMITS, maxBufferedBytes: MAX, allowedOrigins: [] });
    const link = new MemoryLink();
    link.events = relay.attach(link, '192.0.2.1');
    if (room) {
      link.send({ type: 'join', room, suite: 'des' });
      await vi.waitFor(() => expect(link.received[0]).toMatchObject({ type: 'joined' }));
    }
    return { relay, link };
  }

  it.each([
    [
      'a reply (joined)',
      undefined,
      (link: MemoryLink) => link.send({ type: 'join', room: 'two', suite: 'des' }),
    ],
    ['an error (bad-json)', undefined, (link: MemoryLink) => link.events.message(Buffer.from('{'), false)],
    [
      'an error (no-partner) and an ack',
      'alone',
      (link: MemoryLink) => link.events.message(Buffer.alloc(0), true),
    ],
  ])('%s that would pass it closes the connection with 1013 instead', async (_, room, provoke) => {
    const { relay, link } = await connected(room);
    link.bufferedBytes = MAX - 20; // the client stopped reading long ago
    const before = link.received.length;
    provoke(link);
    await vi.waitFor(() => expect(link.closedWith).toBe(1013));
    expect(link.received).toHaveLength(before);
    await relay.close();
  });

  it('a notice (partner-joined) that would pass it closes the connection with 1013 instead', async () => {
    const { relay, link } = await connected('backlog-notice');
    link.bufferedBytes = MAX - 10;
    const partner = new MemoryLink();
    partner.events = relay.attach(partner, '192.0.2.2');
    partner.send({ type: 'join', room: 'backlog-notice', suite: 'des' });
    await vi.waitFor(() => expect(link.closedWith).toBe(1013));
    await vi.waitFor(() => expect(partner.received.at(-1)).toEqual({ type: 'partner-away' }));
    await relay.close();
  });
});

describe('relay: repeated errors are coalesced', () => {
  it('a thousand empty frames with no partner: one no-partner at once, then one standing for the rest', async () => {
    const relay = createRelay({ ...DEFAULT_LIMITS, messageBurst: 100_000, allowedOrigins: [] });
    const link = new MemoryLink();
    link.events = relay.attach(link, '192.0.2.1');
    link.send({ type: 'join', room: 'coalesce-room', suite: 'des' });
    for (let i = 0; i < 1000; i++) link.events.message(Buffer.alloc(0), true);
    const errors = () => link.received.filter((m) => !Buffer.isBuffer(m) && m.type === 'error');
    await vi.waitFor(() => expect(errors()).toHaveLength(2), { timeout: 3_000 });
    expect(errors()).toEqual([
      { type: 'error', code: 'no-partner', message: expect.any(String) },
      { type: 'error', code: 'no-partner', message: expect.any(String), count: 999 },
    ]);
    await relay.close();
  });
});

describe('relay: acks ride with frames', () => {
  /** Two memory links seated together; fake timers from then on. */
  async function seatedPair(room: string) {
    // Rate limits out of the way: the stream below is 400 frames each way.
    const limits = { ...DEFAULT_LIMITS, messageBurst: 10_000, messagesPerSecond: 10_000 };
    const relay = createRelay({ ...limits, allowedOrigins: [] });
    const [a, b] = [new MemoryLink(), new MemoryLink()];
    a.events = relay.attach(a, '192.0.2.1');
    b.events = relay.attach(b, '192.0.2.2');
    a.send({ type: 'join', room, suite: 'des' });
    b.send({ type: 'join', room, suite: 'des' });
    await vi.waitFor(() => expect(a.received).toContainEqual({ type: 'partner-joined' }));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    a.calls.length = b.calls.length = 0;
    return { relay, a, b };
  }

  async function done(relay: ReturnType<typeof createRelay>): Promise<void> {
    vi.useRealTimers();
    await relay.close();
  }

  it('an ack that came due goes in the same write as the next frame to the connection', async () => {
    const { relay, a, b } = await seatedPair('ack-rides');
    a.events.message(Buffer.from([1]), true);
    a.events.message(Buffer.from([2]), true);
    vi.advanceTimersByTime(ACK_DELAY_MS); // due, not sent
    await Promise.resolve(); // b's writes uncorked
    expect(a.calls).toEqual([]);
    b.events.message(Buffer.from([9]), true);
    expect(a.calls).toEqual(['cork', 'binary', 'ack 2']);
    await Promise.resolve();
    expect(a.calls).toEqual(['cork', 'binary', 'ack 2', 'uncork']);
    vi.advanceTimersByTime(10 * ACK_DELAY_MS);
    expect(a.calls.filter((call) => call.startsWith('ack'))).toEqual(['ack 2']); // once
    await done(relay);
  });

  it('a frame read alone is written at once, without a cork; one of several is batched', async () => {
    const { relay, a, b } = await seatedPair('alone');
    a.events.message(Buffer.from([1]), true, true);
    expect(b.calls).toEqual(['binary']);
    await Promise.resolve();
    expect(b.calls).toEqual(['binary']); // nothing to uncork
    a.events.message(Buffer.from([2]), true, false);
    a.events.message(Buffer.from([3]), true, true); // the last of the read joins the batch
    expect(b.calls).toEqual(['binary', 'cork', 'binary', 'binary']);
    await Promise.resolve();
    expect(b.calls).toEqual(['binary', 'cork', 'binary', 'binary', 'uncork']);
    a.events.message(Buffer.from([4]), true); // a transport that cannot tell: batched
    expect(b.calls.slice(5)).toEqual(['cork', 'binary']);
    await done(relay);
  });

  it('a frame read alone is still batched when an ack is due (it rides along) or the socket is backed up', async () => {
    const { relay, a, b } = await seatedPair('alone-batched');
    b.events.message(Buffer.from([9]), true, true);
    vi.advanceTimersByTime(ACK_DELAY_MS); // b's ack is due
    a.events.message(Buffer.from([1]), true, true);
    expect(b.calls).toEqual(['cork', 'binary', 'ack 1']);
    await Promise.resolve();
    b.calls.length = 0;
    b.bufferedBytes = 1; // earlier writes not yet taken by the network
    a.events.message(Buffer.from([2]), true, true);
    expect(b.calls).toEqual(['cork', 'binary']);
    await done(relay);
  });

  it('with nothing written to the connection, the ack goes alone once it has been due as long again', async () => {
    const { relay, a } = await seatedPair('ack-alone');
    a.events.message(Buffer.from([1]), true);
    vi.advanceTimersByTime(2 * ACK_DELAY_MS - 1);
    expect(a.calls).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(a.calls).toEqual(['ack 1']);
    await done(relay);
  });

  it('under a steady stream both ways, acks go at most once per ACK_DELAY_MS and never alone', async () => {
    const { relay, a, b } = await seatedPair('ack-stream');
    const frames = 400;
    for (let i = 0; i < frames; i++) {
      a.events.message(Buffer.from([i % 256]), true);
      b.events.message(Buffer.from([i % 256]), true);
      await Promise.resolve();
      vi.advanceTimersByTime(ACK_DELAY_MS / 10);
    }
    for (const link of [a, b]) {
      const acks = link.calls.flatMap((call, i) => (call.startsWith('ack') ? [i] : []));
      expect(acks.length).toBeGreaterThan(frames / 10 / 2 - 2); // one per 2 × ACK_DELAY_MS, about
      expect(acks.length).toBeLessThanOrEqual(frames / 10);
      for (const i of acks) expect(link.calls[i - 1]).toBe('binary'); // each in a frame's write
    }
    await done(relay);
  });
});

describe('WriteBatch', () => {
  it('corks a link once per callback and uncorks it as soon as the callback returns', async () => {
    const batch = new WriteBatch();
    const link = new MemoryLink();
    const other = new MemoryLink();
    batch.add(link);
    batch.add(link);
    batch.add(other);
    expect(link.calls).toEqual(['cork']);
    expect(other.calls).toEqual(['cork']);
    // Uncorked at the end of this callback, before any timer or immediate of the turn.
    let immediate = false;
    setImmediate(() => (immediate = true));
    await Promise.resolve();
    expect(immediate).toBe(false);
    expect(link.calls).toEqual(['cork', 'uncork']);
    expect(other.calls).toEqual(['cork', 'uncork']);
    batch.add(link);
    expect(link.calls).toEqual(['cork', 'uncork', 'cork']);
    await Promise.resolve();
    expect(link.calls).toEqual(['cork', 'uncork', 'cork', 'uncork']);
  });

  it('a link corked while the batch flushes is uncorked in the same flush: every cork has its uncork', async () => {
    const batch = new WriteBatch();
    const late = new MemoryLink();
    const first = new MemoryLink();
    // Uncorking `first` writes, and that write's consequence (a notice, say) goes to `late`.
    first.uncork = () => {
      first.calls.push('uncork');
      batch.add(late);
    };
    batch.add(first);
    await Promise.resolve();
    expect(first.calls).toEqual(['cork', 'uncork']);
    expect(late.calls).toEqual(['cork', 'uncork']);
    // The batch is empty again: the next add corks and schedules a flush of its own.
    batch.add(late);
    await Promise.resolve();
    expect(late.calls).toEqual(['cork', 'uncork', 'cork', 'uncork']);
  });

  it('leaves a link that cannot cork alone', () => {
    const batch = new WriteBatch();
    const link = new MemoryLink();
    const plain: Link = {
      open: true,
      bufferedBytes: 0,
      sendControl: (message) => link.sendControl(message),
      sendBinary: (data) => link.sendBinary(data),
      close: (code) => link.close(code),
      terminate: () => link.terminate(),
      ping: () => undefined,
    };
    expect(() => batch.add(plain)).not.toThrow();
  });
});

describe('WorkQueue', () => {
  it('runs a task at once when nothing is pending, and later ones in order after it', async () => {
    const queue = new WorkQueue();
    const order: string[] = [];
    let release!: () => void;
    queue.run(() => {
      order.push('first');
      return new Promise<void>((resolve) => (release = resolve));
    }, vi.fn());
    expect(queue.busy).toBe(true);
    queue.run(() => void order.push('second'), vi.fn());
    expect(order).toEqual(['first']);
    release();
    await queue.idle;
    expect(order).toEqual(['first', 'second']);
    expect(queue.busy).toBe(false);
    queue.run(() => void order.push('third'), vi.fn());
    expect(order).toEqual(['first', 'second', 'third']); // idle again: at once
    expect(queue.busy).toBe(false);
  });

  it('hands a failure to its handler and keeps going', async () => {
    const queue = new WorkQueue();
    const onError = vi.fn();
    const after = vi.fn();
    queue.run(() => Promise.reject(new TypeError('boom')), onError);
    queue.run(after, onError);
    queue.run(() => {
      throw new RangeError('sync');
    }, onError);
    await queue.idle;
    expect(onError.mock.calls.map(([error]) => (error as Error).name)).toEqual(['TypeError', 'RangeError']);
    expect(after).toHaveBeenCalledOnce();
  });
});
