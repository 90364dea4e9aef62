/**
 * Liveness of the Double Ratchet under long losses: two conversations with real `modern`
 * channels, joined through a scripted in-memory relay whose link from one side can drop every
 * frame, and a virtual clock that drives the retransmission timers and the ratchets' clocks.
 *
 * While the link drops frames, the sender's retransmissions (each encrypted afresh) use up its
 * chain: far more than MAX_SKIP frames of one chain are lost. Once the link heals, the
 * conversation must recover on its own, with nothing lost, duplicated or reordered: either the
 * receiver moves the chain on (an authentic frame out of reach, then the resends), or the next
 * DH step (the receiver speaks, so the sender's next frames start a new chain) does.
 */
import { describe, expect, it } from 'vitest';
import type { ClientMessage, ServerMessage } from '../src/protocol/control.ts';
import { Conversation, type ConversationEvent, type LinkHandlers } from '../src/session/conversation.ts';
import { MAX_SKIP } from '../src/session/double-ratchet.ts';
import { createModernChannel } from '../src/session/modern-channel.ts';

const ROOM = 'liveness-test';
type Side = 'a' | 'b';
const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

/** Timers on a virtual clock: `advance` fires whatever falls due, in order. */
class VirtualClock {
  now = 0;
  #next = 1;
  readonly #timers = new Map<number, { at: number; callback: () => void }>();

  set = (callback: () => void, ms: number): number => {
    const id = this.#next++;
    this.#timers.set(id, { at: this.now + ms, callback });
    return id;
  };

  clear = (id: unknown): void => {
    this.#timers.delete(id as number);
  };

  /** Moves to the next timer (or `ms` on) and fires it; returns false when none is due by then. */
  step(maxMs: number): boolean {
    const [id, timer] = [...this.#timers].sort(([, x], [, y]) => x.at - y.at)[0] ?? [];
    if (id === undefined || timer === undefined || timer.at > this.now + maxMs) {
      this.now += maxMs;
      return false;
    }
    this.#timers.delete(id);
    this.now = Math.max(this.now, timer.at);
    timer.callback();
    return true;
  }
}

/** A relay for one room with two seats, in memory: joins, handshake grants, frames, acks. */
class ScriptedRoom {
  readonly clock = new VirtualClock();
  readonly events: Record<Side, ConversationEvent[]> = { a: [], b: [] };
  /** Frames each side's link carried to the relay, and how many the relay dropped. */
  readonly carried: Record<Side, number> = { a: 0, b: 0 };
  readonly dropped: Record<Side, number> = { a: 0, b: 0 };
  /** Drops every frame from this side while set: a relay or a link losing them silently. */
  dropping: Record<Side, boolean> = { a: false, b: false };
  readonly conversations: Record<Side, Conversation>;
  readonly #handlers: Partial<Record<Side, LinkHandlers>> = {};
  readonly #seated = new Set<Side>();
  readonly #pending: (() => void)[] = [];
  #attempt = 0;

  constructor() {
    const make = (side: Side) =>
      new Conversation({
        room: ROOM,
        suite: 'modern',
        channel: createModernChannel({ passphrase: 'liveness', room: ROOM, now: () => this.clock.now }),
        connect: (handlers) => {
          this.#handlers[side] = handlers;
          this.#later(() => handlers.onOpen());
          return {
            sendText: (text) => this.#later(() => this.#fromClient(side, JSON.parse(text) as ClientMessage)),
            sendBinary: (bytes) => this.#later(() => this.#frame(side, bytes)),
            close: () => undefined,
          };
        },
        timers: { set: this.clock.set, clear: this.clock.clear },
        now: () => this.clock.now,
        onEvent: (event) => this.events[side].push(event),
      });
    this.conversations = { a: make('a'), b: make('b') };
  }

  #later(work: () => void): void {
    this.#pending.push(work);
  }

  #send(to: Side, message: ServerMessage): void {
    this.#later(() => this.#handlers[to]?.onText(JSON.stringify(message)));
  }

  #fromClient(side: Side, message: ClientMessage): void {
    if (message.type === 'join') {
      const role = side === 'a' ? 'initiator' : 'responder';
      const partner = this.#seated.has(other(side));
      this.#seated.add(side);
      const token = (side === 'a' ? 'aa' : 'bb').repeat(16);
      this.#send(side, {
        type: 'joined',
        room: ROOM,
        suite: 'modern',
        role,
        partner,
        partnerAway: false,
        token,
      });
      if (partner) this.#send(other(side), { type: 'partner-joined' });
    } else if (message.type === 'handshake') {
      this.#attempt += 1;
      const nonce = this.#attempt.toString(16).padStart(32, '0');
      for (const to of ['a', 'b'] as const)
        this.#send(to, { type: 'handshake', attempt: this.#attempt, nonce });
    }
  }

  #frame(from: Side, bytes: Uint8Array): void {
    this.carried[from] += 1;
    this.#send(from, { type: 'ack', frames: this.carried[from] });
    if (this.dropping[from]) {
      this.dropped[from] += 1;
      return;
    }
    this.#later(() => this.#handlers[other(from)]?.onBinary(bytes));
  }

  /** Delivers everything in flight, and what it causes, until both sides are idle. */
  async settle(): Promise<void> {
    for (;;) {
      await this.conversations.a.settled();
      await this.conversations.b.settled();
      if (this.#pending.length === 0) return;
      for (const work of this.#pending.splice(0)) work();
    }
  }

  /** Lets virtual time pass, firing timers (retransmissions) and settling after each. */
  async wait(ms: number): Promise<void> {
    const until = this.clock.now + ms;
    await this.settle();
    while (this.clock.step(until - this.clock.now)) await this.settle();
    await this.settle();
  }

  incoming(side: Side): string[] {
    return this.events[side].flatMap((e) => (e.type === 'incoming' ? [e.text] : []));
  }

  undelivered(side: Side): number[] {
    const status = new Map<number, string>();
    for (const e of this.events[side]) {
      if (e.type === 'outgoing') status.set(e.id, 'sending');
      if (e.type === 'delivery') status.set(e.id, e.status);
    }
    return [...status].filter(([, s]) => s !== 'delivered').map(([id]) => id);
  }
}

async function readyRoom(): Promise<ScriptedRoom> {
  const room = new ScriptedRoom();
  room.conversations.a.start();
  room.conversations.b.start();
  await room.wait(5_000);
  expect([room.conversations.a.status, room.conversations.b.status]).toEqual(['ready', 'ready']);
  room.conversations.a.send('before the loss');
  await room.settle();
  expect(room.incoming('b')).toEqual(['before the loss']);
  return room;
}

/** Keeps `a`'s link dropping until more than `frames` of its frames were lost, retransmitting. */
async function loseFramesOfA(room: ScriptedRoom, texts: string[], frames: number): Promise<void> {
  room.dropping.a = true;
  for (const text of texts) room.conversations.a.send(text);
  await room.settle();
  for (let round = 0; room.dropped.a <= frames; round++) {
    if (round > 1_000) throw new Error('the retransmission timer stopped');
    await room.wait(30_000);
  }
  room.dropping.a = false;
}

const TEXTS = Array.from({ length: 40 }, (_, i) => `lost on the way #${i + 1}`);

describe('Double Ratchet liveness: more than MAX_SKIP frames of one chain lost', () => {
  it('with no reply: resends alone recover it (the chain moves on), nothing lost, shown once and in order', async () => {
    const room = await readyRoom();
    // b's receipt for the first message was a DH step: a's lost frames are all on a new chain, so
    // the first to arrive is an unknown chain's frame beyond MAX_SKIP, and the next ones are
    // still more than MAX_SKIP ahead of it.
    await loseFramesOfA(room, TEXTS, 3 * MAX_SKIP);
    expect(room.dropped.a).toBeGreaterThan(3 * MAX_SKIP);
    expect(room.incoming('b')).toEqual(['before the loss']);
    // The link is back: the next retransmissions get through.
    await room.wait(5 * 60_000);
    expect(room.incoming('b')).toEqual(['before the loss', ...TEXTS]);
    expect(room.undelivered('a')).toEqual([]);
    // The conversation goes on both ways.
    room.conversations.b.send('all here');
    room.conversations.a.send('good');
    await room.settle();
    expect(room.incoming('a')).toEqual(['all here']);
    expect(room.incoming('b').at(-1)).toBe('good');
    const problems = (side: Side) => room.events[side].filter((e) => e.type === 'problem');
    expect(problems('a')).toEqual([]);
    expect(problems('b').filter((e) => e.type === 'problem' && e.code !== 'rate-limited')).toEqual([]);
  });

  it('with a reply: the next DH step recovers it at once', async () => {
    const room = await readyRoom();
    await loseFramesOfA(room, TEXTS, MAX_SKIP + 100);
    // b speaks (its frames reach a): a's next frames start a new chain, which b opens at once.
    room.conversations.b.send('are you there?');
    await room.settle();
    expect(room.incoming('a')).toEqual(['are you there?']);
    await room.wait(60_000);
    expect(room.incoming('b')).toEqual(['before the loss', ...TEXTS]);
    expect(room.undelivered('a')).toEqual([]);
    expect(room.undelivered('b')).toEqual([]);
  });
});
