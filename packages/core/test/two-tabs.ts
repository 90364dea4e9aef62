/**
 * Test helper: two real `modern` conversations in one room, over a scripted relay and scripted
 * direct links, with virtual timers. Nothing moves by itself: every delivery waits in a
 * first-in-first-out queue (one per path and direction, as a socket or a data channel would)
 * until the test takes it, so a test decides which path overtakes which.
 *
 * The relay does what server/src/relay.ts does for two well-behaved seats: joins, grants,
 * relays binary frames and acknowledges them. The direct links pair an offer with an answer
 * (their SDP is a fake id, their candidates too), open both ends once the answer is in, and
 * carry frames until closed or cut.
 */
import type { FrameRate, ServerMessage } from '../src/protocol/control.ts';
import {
  Conversation,
  type ConversationEvent,
  type LinkHandlers,
  type Timers,
} from '../src/session/conversation.ts';
import type { DirectLinkHandlers, DirectSignal } from '../src/session/direct-dialer.ts';
import { createModernChannel } from '../src/session/modern-channel.ts';
import type { PathSwitchOptions } from '../src/session/path-switch.ts';

export type Side = 'a' | 'b';
export const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

/** A queue of deliveries: `relay:a` is what the relay sends to a, `direct:a` what a's link gets. */
export type QueueName = `${'relay' | 'direct'}:${Side}`;

interface FakeLink {
  id: number;
  side: Side;
  handlers: DirectLinkHandlers;
  peer: FakeLink | undefined;
  open: boolean;
  closed: boolean;
  /** Frames sent on it vanish (a one-way stall). */
  blackhole: boolean;
}

/** Chooses which non-empty queue delivers next. */
export type Pick = (names: QueueName[]) => QueueName;

/** A seeded choice among queues (mulberry32), so that a failing run can be replayed. */
export function seededPick(seed: number): Pick {
  let state = seed >>> 0;
  return (names) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const random = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return names[Math.floor(random * names.length)]!;
  };
}

const ROOM = 'two-tabs';

export class TwoTabs {
  readonly conversations: Record<Side, Conversation>;
  readonly events: Record<Side, ConversationEvent[]> = { a: [], b: [] };
  readonly queues: Record<QueueName, (() => void)[]> = {
    'relay:a': [],
    'relay:b': [],
    'direct:a': [],
    'direct:b': [],
  };
  /** Binary frames each side sent through the relay, and on direct links. */
  readonly relayFrames: Record<Side, number> = { a: 0, b: 0 };
  readonly directFrames: Record<Side, number> = { a: 0, b: 0 };
  /** Every binary frame the relay carried, as it saw it. */
  readonly relayed: Uint8Array[] = [];
  /** Direct links created, per side (what an RTCPeerConnection count would be). */
  readonly linksCreated: Record<Side, number> = { a: 0, b: 0 };
  now = 0;

  readonly #timers: { at: number; seq: number; callback: () => void }[] = [];
  #timerSeq = 0;
  #relaySeats: Partial<Record<Side, LinkHandlers>> = {};
  #relayCounts: Record<Side, number> = { a: 0, b: 0 };
  #attempt = 0;
  #links: FakeLink[] = [];
  #nextLink = 1;

  readonly #pick: Pick;

  readonly #rate: FrameRate | undefined;

  constructor(
    options: {
      allowed?: Record<Side, boolean>;
      paths?: PathSwitchOptions;
      pick?: Pick;
      rate?: FrameRate;
    } = {},
  ) {
    this.#rate = options.rate;
    const allowed = options.allowed ?? { a: true, b: true };
    this.#pick = options.pick ?? ((names) => names[0]!);
    const make = (side: Side) =>
      new Conversation({
        room: ROOM,
        suite: 'modern',
        channel: createModernChannel({ passphrase: 'correct horse', room: ROOM }),
        connect: (handlers) => this.#connectRelay(side, handlers),
        timers: this.timers(),
        now: () => this.now,
        onEvent: (event) => this.events[side].push(event),
        direct: {
          connect: (settings, handlers) => this.#connectDirect(side, settings.initiator, handlers),
          allowed: allowed[side],
          ...(options.paths ? { paths: options.paths } : {}),
        },
      });
    this.conversations = { a: make('a'), b: make('b') };
  }

  /** Both join (a first, so a is the initiator); everything due now runs (the handshake too). */
  async start(): Promise<void> {
    this.conversations.a.start();
    await this.drain();
    this.conversations.b.start();
    await this.advance(0);
  }

  async settle(): Promise<void> {
    await this.conversations.a.settled();
    await this.conversations.b.settled();
  }

  /** Takes the head of one queue and lets both conversations finish what it started. */
  async step(queue: QueueName): Promise<boolean> {
    const next = this.queues[queue].shift();
    if (!next) return false;
    next();
    await this.settle();
    return true;
  }

  /** Delivers everything queued, in the order `pick` chooses among non-empty queues (FIFO each). */
  async drain(pick: Pick = this.#pick, limit = 100_000): Promise<void> {
    await this.settle();
    for (let steps = 0; steps < limit; steps++) {
      const ready = (Object.keys(this.queues) as QueueName[]).filter((name) => this.queues[name].length > 0);
      if (ready.length === 0) return;
      await this.step(pick(ready));
    }
    throw new Error('the queues never drained');
  }

  /** Runs the earliest timer (virtual time jumps to it); false if none is set. */
  async fireNextTimer(): Promise<boolean> {
    this.#timers.sort((x, y) => x.at - y.at || x.seq - y.seq);
    const timer = this.#timers.shift();
    if (!timer) return false;
    this.now = Math.max(this.now, timer.at);
    timer.callback();
    await this.settle();
    return true;
  }

  /** Lets `ms` of time pass, running the timers due meanwhile without delivering anything. */
  async elapse(ms: number): Promise<void> {
    const until = this.now + ms;
    for (;;) {
      this.#timers.sort((x, y) => x.at - y.at || x.seq - y.seq);
      if (!this.#timers[0] || this.#timers[0].at > until) break;
      await this.fireNextTimer();
    }
    this.now = until;
  }

  /** Lets time pass by `ms`, running every timer due meanwhile and draining after each. */
  async advance(ms: number): Promise<void> {
    const until = this.now + ms;
    for (;;) {
      await this.drain();
      this.#timers.sort((x, y) => x.at - y.at || x.seq - y.seq);
      if (!this.#timers[0] || this.#timers[0].at > until) break;
      await this.fireNextTimer();
    }
    this.now = until;
  }

  /** The last path each side announced. */
  path(side: Side): string | undefined {
    const paths = this.events[side].filter((event) => event.type === 'path');
    const last = paths[paths.length - 1];
    return last?.type === 'path' ? last.path : undefined;
  }

  incoming(side: Side): string[] {
    return this.events[side].flatMap((event) => (event.type === 'incoming' ? [event.text] : []));
  }

  /** Final status of each outgoing message id. */
  deliveries(side: Side): Map<number, string> {
    const status = new Map<number, string>();
    for (const event of this.events[side]) {
      if (event.type === 'outgoing') status.set(event.id, 'sending');
      if (event.type === 'delivery') status.set(event.id, event.status);
    }
    return status;
  }

  problems(side: Side): string[] {
    return this.events[side].flatMap((event) => (event.type === 'problem' ? [event.code] : []));
  }

  /** The network under the open link fails: what is in flight is lost; both ends see it close. */
  cutDirect(): boolean {
    const live = this.#links.filter((link) => link.open && !link.closed);
    if (live.length === 0) return false;
    this.queues['direct:a'].length = 0;
    this.queues['direct:b'].length = 0;
    for (const link of live) {
      link.closed = true;
      link.open = false;
      this.queues[`direct:${link.side}`].push(() => link.handlers.onClose('failed'));
    }
    return true;
  }

  /** The link stops carrying anything, both ways, without closing (a stall). */
  stallDirect(): void {
    for (const link of this.#links) link.open = false;
    this.queues['direct:a'].length = 0;
    this.queues['direct:b'].length = 0;
  }

  /** Frames `from` sends on its link vanish from now on; the other way still works. */
  stallOneWay(from: Side): void {
    for (const link of this.#links) if (link.side === from) link.blackhole = true;
  }

  /**
   * `side`'s end of the link fails by itself: it hears so first; the other end hears later, after
   * whatever `side` had already sent (those frames still arrive); what the other end sends is lost.
   */
  failDirect(side: Side): boolean {
    const link = this.#links.find((l) => l.side === side && !l.closed && l.open);
    if (!link) return false;
    this.queues[`direct:${side}`].push(() => link.handlers.onClose('failed'));
    this.#closeEnd(link);
    return true;
  }

  /** Closes `link`'s end; the other end hears of it after what is already on its way. */
  #closeEnd(link: FakeLink): void {
    link.closed = true;
    link.open = false;
    const peer = link.peer;
    if (!peer || peer.closed) return;
    this.queues[`direct:${peer.side}`].push(() => {
      if (peer.closed) return;
      peer.closed = true;
      peer.open = false;
      peer.handlers.onClose('closed');
    });
  }

  /** The virtual timers the conversations use (for machines attached to them in a test). */
  timers(): Timers {
    return {
      set: (callback, ms) => {
        const timer = { at: this.now + ms, seq: this.#timerSeq++, callback };
        this.#timers.push(timer);
        return timer;
      },
      clear: (handle) => {
        const index = this.#timers.indexOf(handle as never);
        if (index >= 0) this.#timers.splice(index, 1);
      },
    };
  }

  #toClient(side: Side, message: ServerMessage | Uint8Array): void {
    this.queues[`relay:${side}`].push(() => {
      const handlers = this.#relaySeats[side];
      if (!handlers) return;
      if (message instanceof Uint8Array) handlers.onBinary(message);
      else handlers.onText(JSON.stringify(message));
    });
  }

  #grant(): void {
    this.#attempt += 1;
    const nonce = this.#attempt.toString(16).padStart(32, '0');
    for (const seat of ['a', 'b'] as const) {
      this.#toClient(seat, { type: 'handshake', attempt: this.#attempt, nonce });
    }
  }

  #connectRelay(side: Side, handlers: LinkHandlers) {
    this.queues[`relay:${side}`].push(() => handlers.onOpen());
    return {
      sendText: (text: string) => {
        const message = JSON.parse(text) as { type: string };
        if (message.type === 'join') {
          const partner = this.#relaySeats[other(side)] !== undefined;
          this.#relaySeats[side] = handlers;
          this.#toClient(side, {
            type: 'joined',
            room: ROOM,
            suite: 'modern',
            role: partner ? 'responder' : 'initiator',
            partner,
            partnerAway: false,
            token: 'ab'.repeat(16),
            ...(this.#rate ? { rate: this.#rate } : {}),
          });
          if (partner) this.#toClient(other(side), { type: 'partner-joined' });
          // As the relay does: both seats taken, the first attempt is granted unasked.
          if (partner) this.#grant();
        } else if (message.type === 'handshake') {
          this.#grant();
        }
      },
      sendBinary: (bytes: Uint8Array) => {
        this.relayFrames[side] += 1;
        this.relayed.push(bytes.slice());
        this.#relayCounts[side] += 1;
        this.#toClient(other(side), bytes.slice());
        this.#toClient(side, { type: 'ack', frames: this.#relayCounts[side] });
      },
      close: () => undefined,
    };
  }

  #connectDirect(side: Side, initiator: boolean, handlers: DirectLinkHandlers) {
    this.linksCreated[side] += 1;
    const link: FakeLink = {
      id: this.#nextLink++,
      side,
      handlers,
      peer: undefined,
      open: false,
      closed: false,
      blackhole: false,
    };
    this.#links.push(link);
    const local = (signal: DirectSignal) =>
      this.queues[`direct:${side}`].push(() => {
        if (!link.closed) handlers.onSignal(signal);
      });
    const candidate = (): DirectSignal => ({
      type: 'candidate',
      candidate: `candidate:${link.id} 1 udp 1 fake.local 9 typ host`,
      sdpMid: '0',
      sdpMLineIndex: 0,
    });
    if (initiator) {
      local({ type: 'offer', sdp: `offer ${link.id}` });
      local(candidate());
    }
    const openBoth = (peer: FakeLink) => {
      for (const end of [link, peer]) {
        this.queues[`direct:${end.side}`].push(() => {
          if (end.closed || end.open) return;
          end.open = true;
          end.handlers.onOpen();
        });
      }
    };
    return {
      signal: (signal: DirectSignal) => {
        if (link.closed) return;
        if (signal.type === 'offer') {
          link.peer = this.#links.find((l) => `offer ${l.id}` === signal.sdp);
          if (link.peer) link.peer.peer = link;
          local({ type: 'answer', sdp: `answer ${link.id}` });
          local(candidate());
        } else if (signal.type === 'answer' && link.peer && !link.peer.closed) {
          openBoth(link.peer);
        }
      },
      send: (frame: Uint8Array) => {
        const peer = link.peer;
        if (!link.open || !peer || peer.closed) return;
        this.directFrames[side] += 1;
        if (link.blackhole) return;
        const copy = frame.slice();
        this.queues[`direct:${peer.side}`].push(() => {
          if (!peer.closed && peer.open) peer.handlers.onFrame(copy);
        });
      },
      close: () => {
        if (!link.closed) this.#closeEnd(link);
      },
    };
  }
}
