/**
 * The conversation's wiring, against a scripted relay: what it sends, when it reconnects,
 * what it resends, and what the user is told. Fake socket and timers; real `des` channels, and
 * for `modern`'s delivery (envelopes and receipts) a see-through channel, so that the test reads
 * what would be encrypted without running a handshake.
 */
import { describe, expect, it } from 'vitest';
import { concatBytes, partsOf, utf8DecodeStrict, utf8Encode } from '../src/bytes.ts';
import { desEncrypt, deriveDesKey, roomSalt } from '../src/crypto/des-suite.ts';
import type { ServerMessage, SuiteId } from '../src/protocol/control.ts';
import type { SecureChannel } from '../src/session/channel.ts';
import { createDesChannel } from '../src/session/des-channel.ts';
import { createModernChannel } from '../src/session/modern-channel.ts';
import {
  Conversation,
  GRANT_ON_SEAT_WAIT_MS,
  SEAT_HOLD_MAX_MS,
  type ConversationEvent,
  type LinkHandlers,
} from '../src/session/conversation.ts';
import { decodeEnvelope, encodeEnvelope } from '../src/session/envelope.ts';

const ROOM = 'conversation-test';
const TOKEN = 'ab'.repeat(16);
const INSTANCE = '11'.repeat(8); // from the fixed `random` below
/** The n-th seat token the client picks (`random` below counts them). */
const picked = (n: number) => n.toString(16).padStart(2, '0').repeat(16);

interface Timer {
  callback: () => void;
  ms: number;
  due: number;
}

class ScriptedRelay {
  links: { handlers: LinkHandlers; sent: (string | Uint8Array)[]; sentAt: number[]; closed?: number }[] = [];
  timers: Timer[] = [];
  /** The fake clock (ms). */
  now = 0;

  get link() {
    const link = this.links[this.links.length - 1];
    if (!link) throw new Error('no link');
    return link;
  }
  control(message: ServerMessage): void {
    this.link.handlers.onText(JSON.stringify(message));
  }
  sentControl(): { type: string }[] {
    return this.link.sent.filter((m): m is string => typeof m === 'string').map((m) => JSON.parse(m));
  }
  sentFrames(): Uint8Array[] {
    return this.link.sent.filter((m): m is Uint8Array => typeof m !== 'string');
  }
  /** Fires every timer set so far, whenever due. */
  fireTimers(): void {
    const due = this.timers.splice(0);
    for (const timer of due) timer.callback();
  }
  /** Moves the clock on by `ms`, firing timers in the order they fall due. */
  async advance(ms: number, settle: () => Promise<void>): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      await settle();
      const next = [...this.timers].sort((a, b) => a.due - b.due)[0];
      if (!next || next.due > end) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.now = Math.max(this.now, next.due);
      next.callback();
    }
    this.now = end;
  }
}

/** A `modern` stand-in that encrypts nothing: frames are the UTF-8 plaintext. Tests only. */
function seeThroughChannel(): SecureChannel {
  return {
    suite: 'modern',
    maxDataBytes: 0,
    start: async () => [{ type: 'ready' }],
    grant: async () => [],
    retry: async () => [{ type: 'ready' }],
    receive: async (frame) => [{ type: 'message', text: utf8DecodeStrict(frame) }],
    send: async (payload) => [
      {
        type: 'transmit',
        frame: typeof payload === 'string' ? utf8Encode(payload) : concatBytes(...partsOf(payload)),
      },
    ],
    reset: () => undefined,
  };
}

/** `channel`: another channel than the suite's usual stand-in (a real `modern` one, say). */
async function setup(suite: SuiteId = 'des', channel?: SecureChannel) {
  const relay = new ScriptedRelay();
  let tokens = 0;
  const salt = await roomSalt(ROOM);
  const events: ConversationEvent[] = [];
  const conversation = new Conversation({
    room: ROOM,
    suite,
    channel:
      channel ?? (suite === 'des' ? createDesChannel({ passphrase: 'pw', salt }) : seeThroughChannel()),
    // Seat tokens (16 bytes) count up: 0101…, 0202…; everything else is 0x11.
    random: (n) => new Uint8Array(n).fill(n === 16 ? ++tokens : 0x11),
    now: () => relay.now,
    connect: (handlers) => {
      const link: ScriptedRelay['links'][number] = { handlers, sent: [], sentAt: [] };
      relay.links.push(link);
      const send = (item: string | Uint8Array) => {
        link.sent.push(item);
        link.sentAt.push(relay.now);
      };
      return { sendText: send, sendBinary: send, close: (code) => (link.closed = code) };
    },
    timers: {
      set: (callback, ms) => {
        const timer: Timer = { callback, ms, due: relay.now + ms };
        relay.timers.push(timer);
        return timer;
      },
      clear: (handle) => {
        const index = relay.timers.indexOf(handle as Timer);
        if (index >= 0) relay.timers.splice(index, 1);
      },
    },
    onEvent: (event) => events.push(event),
    maxReconnectAttempts: 2,
  });
  const partner = createDesChannel({ passphrase: 'pw', salt });
  await partner.start('responder');
  /** Lets the conversation's queue of channel work run to the end. */
  const settle = () => conversation.settled();
  return { relay, conversation, events, partner, settle };
}

/** A `modern` conversation with a real channel, started, its relay link open (not seated yet). */
async function openModern() {
  const opened = await setup('modern', createModernChannel({ passphrase: 'pw', room: ROOM }));
  opened.conversation.start();
  opened.relay.link.handlers.onOpen();
  return opened;
}

const joined = (
  partner: boolean,
  type: 'joined' | 'resumed' = 'joined',
  suite: SuiteId = 'des',
  extra: { token?: string; rate?: { burst: number; perSecond: number } } = {},
): ServerMessage => ({
  type,
  room: ROOM,
  suite,
  role: 'initiator',
  partner,
  partnerAway: false,
  token: TOKEN,
  ...extra,
});

const statuses = (events: ConversationEvent[]) =>
  events.filter((e) => e.type === 'status').map((e) => (e.type === 'status' ? e.status : ''));

describe('conversation', () => {
  it('modern: joins, waits, gets ready, and takes a message from sending to sent to delivered', async () => {
    const { relay, conversation, events, settle } = await setup('modern');
    conversation.start();
    relay.link.handlers.onOpen();
    expect(relay.sentControl()).toEqual([
      { type: 'join', room: ROOM, suite: 'modern', token: picked(1), version: 3, grantOnSeat: true },
    ]);
    relay.control(joined(false, 'joined', 'modern'));
    relay.control({ type: 'partner-joined' });
    await settle();
    expect(statuses(events)).toEqual(['connecting', 'waiting', 'handshaking', 'ready']);

    const id = conversation.send('hello');
    await settle();
    const [frame] = relay.sentFrames();
    expect(decodeEnvelope(utf8DecodeStrict(frame!))).toEqual({
      kind: 'message',
      instance: INSTANCE,
      id,
      text: 'hello',
    });
    relay.control({ type: 'ack', frames: 1 });
    const receipt = encodeEnvelope({ kind: 'receipt', instance: INSTANCE, upTo: id });
    relay.link.handlers.onBinary(utf8Encode(receipt));
    await settle();
    expect(events.filter((e) => e.type === 'delivery')).toEqual([
      { type: 'delivery', id, status: 'sent' },
      { type: 'delivery', id, status: 'delivered' },
    ]);
  });

  it('modern: answers incoming messages with one receipt, shows each once, and resends until confirmed', async () => {
    const { relay, conversation, events, settle } = await setup('modern');
    conversation.start();
    relay.link.handlers.onOpen();
    relay.control(joined(true, 'joined', 'modern'));
    await settle();
    const partner = '22'.repeat(8);
    const message = (id: number) =>
      utf8Encode(encodeEnvelope({ kind: 'message', instance: partner, id, text: `#${id}` }));
    relay.link.handlers.onBinary(message(1));
    relay.link.handlers.onBinary(message(1)); // a duplicate
    relay.link.handlers.onBinary(message(2));
    await settle();
    expect(events.filter((e) => e.type === 'incoming')).toEqual([
      { type: 'incoming', text: '#1' },
      { type: 'incoming', text: '#2' },
    ]);
    expect(relay.sentFrames().map((f) => decodeEnvelope(utf8DecodeStrict(f)))).toEqual([
      { kind: 'receipt', instance: partner, upTo: 2 },
    ]);

    conversation.send('unconfirmed');
    await settle();
    expect(relay.sentFrames()).toHaveLength(2);
    relay.fireTimers(); // no receipt within the retransmission delay
    await settle();
    expect(relay.sentFrames()).toHaveLength(3);
  });

  it('des: the plaintext is the text and nothing else; the relay ack is final; nothing answers an incoming frame', async () => {
    const { relay, conversation, events, partner, settle } = await setup('des');
    conversation.start();
    relay.link.handlers.onOpen();
    relay.control(joined(false));
    relay.control({ type: 'partner-joined' });
    await settle();
    expect(statuses(events)).toEqual(['connecting', 'waiting', 'handshaking', 'ready']);

    const id = conversation.send('hello, café 🙂');
    await settle();
    const [frame] = relay.sentFrames();
    expect(await partner.receive(frame!)).toEqual([{ type: 'message', text: 'hello, café 🙂' }]);
    relay.control({ type: 'ack', frames: 1 });
    expect(events.filter((e) => e.type === 'delivery')).toEqual([{ type: 'delivery', id, status: 'sent' }]);
    expect(relay.timers).toEqual([]); // no retransmission: there is no receipt to wait for

    // What looks like an envelope is just text; it is shown as it is and earns no receipt.
    for (const text of ['from the original', 'm:1111111111111111:1:x', 'r:1111111111111111:1']) {
      const [effect] = await partner.send(text);
      relay.link.handlers.onBinary(effect?.type === 'transmit' ? effect.frame : new Uint8Array());
    }
    await settle();
    expect(events.filter((e) => e.type === 'incoming')).toEqual([
      { type: 'incoming', text: 'from the original' },
      { type: 'incoming', text: 'm:1111111111111111:1:x' },
      { type: 'incoming', text: 'r:1111111111111111:1' },
    ]);
    expect(relay.sentFrames()).toHaveLength(1);
    expect(events.filter((e) => e.type === 'delivery')).toHaveLength(1);
  });

  it('des: reads a frame made with the original key derivation and a fixed IV', async () => {
    const { relay, conversation, events, settle } = await setup('des');
    conversation.start();
    relay.link.handlers.onOpen();
    relay.control(joined(true));
    await settle();
    const key = await deriveDesKey('pw', await roomSalt(ROOM));
    relay.link.handlers.onBinary(desEncrypt(key, 'hi', new Uint8Array(8).fill(7)));
    await settle();
    expect(events.filter((e) => e.type === 'incoming')).toEqual([{ type: 'incoming', text: 'hi' }]);
  });

  it('des: a frame of its own sent back by the relay is dropped as replayed, never shown', async () => {
    const { relay, conversation, events, settle } = await setup('des');
    conversation.start();
    relay.link.handlers.onOpen();
    relay.control(joined(true));
    await settle();
    conversation.send('mine');
    await settle();
    const [frame] = relay.sentFrames();
    relay.link.handlers.onBinary(frame!);
    await settle();
    expect(events.filter((e) => e.type === 'incoming')).toEqual([]);
    expect(events).toContainEqual({ type: 'problem', code: 'replayed', fatal: false });
    expect(relay.sentFrames()).toHaveLength(1);
    expect(conversation.status).toBe('ready');
  });

  it('des: across a reconnect, only frames the relay never acknowledged are sent again', async () => {
    const { relay, conversation, events, partner, settle } = await setup('des');
    conversation.start();
    relay.link.handlers.onOpen();
    relay.control(joined(true));
    await settle();
    const acked = conversation.send('acked');
    conversation.send('in flight');
    await settle();
    relay.control({ type: 'ack', frames: 1 });
    // A partner that comes back on the same connection does not duplicate what is in flight.
    relay.control({ type: 'partner-away' });
    relay.control({ type: 'partner-back' });
    await settle();
    const firstLink = relay.sentFrames();
    expect(firstLink).toHaveLength(2);

    relay.link.handlers.onClose();
    relay.fireTimers();
    relay.link.handlers.onOpen();
    relay.control(joined(true, 'resumed'));
    await settle();
    const resent = relay.sentFrames();
    expect(resent).toHaveLength(1);
    expect(resent[0]).toEqual(firstLink[1]); // byte for byte: the partner can tell the copy by its IV
    expect(await partner.receive(resent[0]!)).toEqual([{ type: 'message', text: 'in flight' }]);
    relay.control({ type: 'ack', frames: 1 });
    expect(events.filter((e) => e.type === 'delivery')).toEqual([
      { type: 'delivery', id: acked, status: 'sent' },
      { type: 'delivery', id: acked + 1, status: 'sent' },
    ]);
  });

  it('reconnects after a drop, resumes its seat with the token, and sends unconfirmed messages again', async () => {
    const { relay, conversation, events, settle } = await setup();
    conversation.start();
    relay.link.handlers.onOpen();
    relay.control(joined(true));
    await settle();
    conversation.send('are you there?');
    await settle();
    expect(relay.sentFrames()).toHaveLength(1);

    relay.link.handlers.onClose();
    expect(conversation.status).toBe('reconnecting');
    // The first reconnection waits 250 ms ± 20 %.
    expect(relay.timers.map((timer) => timer.ms)).toEqual([
      expect.toSatisfy((ms: number) => ms >= 200 && ms <= 300),
    ]);
    relay.fireTimers();
    relay.link.handlers.onOpen();
    expect(relay.sentControl()).toEqual([{ type: 'resume', room: ROOM, token: TOKEN, next: picked(2) }]);
    relay.control(joined(true, 'resumed'));
    await settle();
    expect(conversation.status).toBe('ready');
    expect(relay.sentFrames()).toHaveLength(1); // the same message, on the new link
    expect(statuses(events)).toContain('reconnecting');
  });

  it('joins afresh when the seat cannot be resumed', async () => {
    const { relay, conversation } = await setup();
    conversation.start();
    relay.link.handlers.onOpen();
    relay.control(joined(false));
    relay.link.handlers.onClose();
    relay.fireTimers();
    relay.link.handlers.onOpen();
    relay.control({ type: 'error', code: 'resume-failed', message: 'gone' });
    expect(relay.sentControl()).toEqual([
      { type: 'resume', room: ROOM, token: TOKEN, next: picked(2) },
      { type: 'join', room: ROOM, suite: 'des', token: picked(3), version: 2 },
    ]);
  });

  it('holds messages while the partner is away and sends them when it is back', async () => {
    const { relay, conversation, settle } = await setup();
    conversation.start();
    relay.link.handlers.onOpen();
    relay.control(joined(true));
    await settle();
    relay.control({ type: 'partner-away' });
    conversation.send('for later');
    await settle();
    expect(relay.sentFrames()).toHaveLength(0);
    relay.control({ type: 'partner-back' });
    await settle();
    expect(relay.sentFrames()).toHaveLength(1);
  });

  it('leave frees the seat, closes with 1000 and fails what was not delivered', async () => {
    const { relay, conversation, events, settle } = await setup();
    conversation.start();
    relay.link.handlers.onOpen();
    relay.control(joined(true));
    await settle();
    const id = conversation.send('unanswered');
    await settle();
    conversation.leave();
    expect(relay.sentControl()).toContainEqual({ type: 'leave' });
    expect(relay.link.closed).toBe(1000);
    expect(events).toContainEqual({ type: 'delivery', id, status: 'failed' });
    expect(conversation.status).toBe('closed');
  });

  it('gives up after the last reconnection attempt with connection-lost', async () => {
    const { relay, conversation, events } = await setup();
    conversation.start();
    relay.link.handlers.onClose(); // never opened
    relay.fireTimers();
    relay.link.handlers.onClose();
    relay.fireTimers();
    relay.link.handlers.onClose();
    expect(conversation.status).toBe('closed');
    expect(events).toContainEqual({ type: 'problem', code: 'connection-lost', fatal: true });
  });

  it('suite-mismatch answering its join is fatal; heard while seated (another version tried the room) it is not', async () => {
    const first = await setup();
    first.conversation.start();
    first.relay.link.handlers.onOpen();
    first.relay.control({ type: 'error', code: 'suite-mismatch', message: 'other suite' });
    expect(first.events).toContainEqual({ type: 'problem', code: 'suite-mismatch', fatal: true });
    expect(first.conversation.status).toBe('failed');

    const seated = await setup();
    seated.conversation.start();
    seated.relay.link.handlers.onOpen();
    seated.relay.control(joined(false));
    seated.relay.control({ type: 'error', code: 'suite-mismatch', message: 'other suite' });
    expect(seated.events).toContainEqual({ type: 'problem', code: 'suite-mismatch', fatal: false });
    expect(seated.conversation.status).toBe('waiting');
    expect(seated.relay.link.closed).toBeUndefined();
  });

  it('a fatal relay error (room-full) ends the conversation without reconnecting', async () => {
    const { relay, conversation, events } = await setup();
    conversation.start();
    relay.link.handlers.onOpen();
    relay.control({ type: 'error', code: 'room-full', message: 'full' });
    expect(conversation.status).toBe('failed');
    expect(events).toContainEqual({ type: 'problem', code: 'room-full', fatal: true });
    relay.link.handlers.onClose();
    expect(relay.timers).toHaveLength(0);
  });

  it('both seats taken: the relay grants the first attempt unasked, and the initiator answers it without asking', async () => {
    const { relay, settle } = await openModern();
    relay.control(joined(true, 'joined', 'modern'));
    relay.control({ type: 'handshake', attempt: 1, nonce: '00'.repeat(16) });
    await settle();
    expect(relay.sentControl().map((message) => message.type)).toEqual(['join']);
    expect(relay.sentFrames()).toHaveLength(1); // the hello of attempt 1
    expect(relay.timers.map((timer) => timer.ms)).not.toContain(GRANT_ON_SEAT_WAIT_MS);
  });

  it('both seats taken: the page hears of its partner once the hello is out, held until the channel is secure or SEAT_HOLD_MAX_MS', async () => {
    const { relay, conversation, events, settle } = await openModern();
    const before = events.length;
    relay.control(joined(true, 'joined', 'modern'));
    relay.control({ type: 'handshake', attempt: 1, nonce: '00'.repeat(16) });
    await settle();
    expect(relay.sentFrames()).toHaveLength(1); // the hello went out…
    expect(events.slice(before)).toEqual([]); // …and the page was not told yet
    expect(conversation.status).toBe('handshaking');
    expect(relay.timers.map((timer) => timer.ms)).toEqual([SEAT_HOLD_MAX_MS]);
    relay.fireTimers(); // a slow partner: the arrival shows while the handshake goes on
    expect(events.slice(before)).toEqual([
      { type: 'partner', state: 'present' },
      { type: 'status', status: 'handshaking' },
    ]);
  });

  it('the seat hold ends with the secure channel, everything in order', async () => {
    const { relay, conversation, events, settle } = await setup('modern');
    conversation.start();
    relay.link.handlers.onOpen();
    const before = events.length;
    relay.control(joined(false, 'joined', 'modern'));
    relay.control({ type: 'partner-joined' });
    await settle(); // the stand-in channel is ready as soon as it starts
    expect(events.slice(before)).toEqual([
      { type: 'partner', state: 'absent' },
      { type: 'status', status: 'waiting' },
      { type: 'partner', state: 'present' },
      { type: 'status', status: 'handshaking' },
      { type: 'path', path: 'relay' },
      { type: 'status', status: 'ready' },
    ]);
    expect(relay.timers.map((timer) => timer.ms)).not.toContain(SEAT_HOLD_MAX_MS);
  });

  it('the seat hold ends at once for anything a person must see: a problem, the partner leaving', async () => {
    const limited = await openModern();
    limited.relay.control(joined(true, 'joined', 'modern'));
    limited.relay.control({
      type: 'error',
      code: 'rate-limited',
      message: 'slow down',
      retryAfterMs: 42_000,
    });
    expect(limited.events.slice(-3)).toEqual([
      { type: 'partner', state: 'present' },
      { type: 'status', status: 'handshaking' },
      { type: 'problem', code: 'rate-limited', fatal: false, retryAfterMs: 42_000 },
    ]);

    const left = await openModern();
    left.relay.control(joined(true, 'joined', 'modern'));
    left.relay.control({ type: 'partner-left' });
    expect(left.events.slice(-4)).toEqual([
      { type: 'partner', state: 'present' },
      { type: 'status', status: 'handshaking' },
      { type: 'partner', state: 'absent' },
      { type: 'status', status: 'waiting' },
    ]);
  });

  it('des holds nothing: it has no handshake to make way for', async () => {
    const { relay, conversation, events } = await setup('des');
    conversation.start();
    relay.link.handlers.onOpen();
    relay.control(joined(false));
    relay.control({ type: 'partner-joined' });
    expect(events).toContainEqual({ type: 'partner', state: 'present' });
    expect(relay.timers.map((timer) => timer.ms)).not.toContain(SEAT_HOLD_MAX_MS);
  });

  it('a partner who arrives later brings the grant the same way', async () => {
    const { relay, settle } = await openModern();
    relay.control(joined(false, 'joined', 'modern'));
    await settle();
    relay.control({ type: 'partner-joined' });
    await settle();
    expect(relay.timers.map((timer) => timer.ms)).toContain(GRANT_ON_SEAT_WAIT_MS);
    relay.control({ type: 'handshake', attempt: 1, nonce: '00'.repeat(16) });
    await settle();
    expect(relay.timers.map((timer) => timer.ms)).not.toContain(GRANT_ON_SEAT_WAIT_MS);
    relay.fireTimers();
    expect(relay.sentControl().map((message) => message.type)).toEqual(['join']);
    expect(relay.sentFrames()).toHaveLength(1);
  });

  it('no grant with the seat (an older relay, or no attempt left): the initiator asks after a second; rate-limited says how long and asks again after that', async () => {
    const { relay, conversation, events, settle } = await openModern();
    relay.control(joined(true, 'joined', 'modern'));
    await settle();
    expect(relay.sentControl().map((message) => message.type)).toEqual(['join']);
    expect(relay.timers.map((timer) => timer.ms)).toEqual([SEAT_HOLD_MAX_MS, GRANT_ON_SEAT_WAIT_MS]);
    relay.fireTimers();
    expect(relay.sentControl().at(-1)).toEqual({ type: 'handshake' });
    relay.control({ type: 'error', code: 'rate-limited', message: 'slow down', retryAfterMs: 42_000 });
    expect(conversation.status).toBe('handshaking');
    expect(events).toContainEqual({
      type: 'problem',
      code: 'rate-limited',
      fatal: false,
      retryAfterMs: 42_000,
    });
    expect(relay.timers.map((timer) => timer.ms)).toContain(42_000);
    const asked = relay.sentControl().length;
    relay.fireTimers();
    expect(relay.sentControl().slice(asked)).toEqual([{ type: 'handshake' }]);
  });
});

describe('conversation: a lost answer costs nothing', () => {
  it('a lost `joined`: the next connection joins again with the same token', async () => {
    const { relay, conversation } = await setup();
    conversation.start();
    relay.link.handlers.onOpen();
    relay.link.handlers.onClose(); // the relay seated us; its answer never came
    relay.fireTimers();
    relay.link.handlers.onOpen();
    expect(relay.sentControl()).toEqual([
      { type: 'join', room: ROOM, suite: 'des', token: picked(1), version: 2 },
    ]);
  });

  it('a lost `resumed`: the same resume again; once answered, the next one presents the new token', async () => {
    const { relay, conversation } = await setup();
    conversation.start();
    relay.link.handlers.onOpen();
    relay.control(joined(true, 'joined', 'des', { token: picked(1) }));
    const reconnect = () => {
      relay.link.handlers.onClose();
      relay.fireTimers();
      relay.link.handlers.onOpen();
      return relay.sentControl();
    };
    const first = reconnect();
    expect(first).toEqual([{ type: 'resume', room: ROOM, token: picked(1), next: picked(2) }]);
    expect(reconnect()).toEqual(first); // no answer: ask for exactly the same again
    relay.control(joined(true, 'resumed', 'des', { token: picked(2) }));
    expect(reconnect()).toEqual([{ type: 'resume', room: ROOM, token: picked(2), next: picked(3) }]);
  });
});

/** Frames (text and binary) the relay's bucket would have refused, for frames sent at `times`. */
function refusedByRelay(times: number[], burst: number, perSecond: number): number {
  let tokens = burst;
  let at = 0;
  let refused = 0;
  for (const time of times) {
    tokens = Math.min(burst, tokens + ((time - at) * perSecond) / 1000);
    at = time;
    if (tokens >= 1) tokens -= 1;
    else refused += 1;
  }
  return refused;
}

describe('conversation: frames paced to the relay rate', () => {
  const RATE = { burst: 10, perSecond: 5 };

  it.each(['des', 'modern'] as const)(
    '%s: a backlog goes out at the rate the relay announced, never past its bucket',
    async (suite) => {
      const { relay, conversation, partner, settle } = await setup(suite);
      conversation.start();
      relay.link.handlers.onOpen();
      relay.control(joined(true, 'joined', suite, { rate: RATE }));
      await settle();
      for (let i = 0; i < 30; i++) conversation.send(`message ${i}`);
      await settle();
      const early = relay.sentFrames().length;
      expect(early).toBeGreaterThan(0);
      expect(early).toBeLessThan(RATE.burst);
      await relay.advance(10_000, settle);
      // Each message once, in order (with `modern`, later frames are retransmissions: no
      // receipt comes here)...
      const text = async (frame: Uint8Array) => {
        if (suite === 'des') {
          const [effect] = await partner.receive(frame);
          return effect?.type === 'message' ? effect.text : '';
        }
        const envelope = decodeEnvelope(utf8DecodeStrict(frame));
        return envelope.kind === 'message' ? envelope.text : '';
      };
      const first = await Promise.all(relay.sentFrames().slice(0, 30).map(text));
      expect(first).toEqual(Array.from({ length: 30 }, (_, i) => `message ${i}`));
      // ...and never a frame, text or binary, that the relay's bucket would refuse.
      expect(refusedByRelay(relay.link.sentAt, RATE.burst, RATE.perSecond)).toBe(0);
    },
  );

  it('after `rate-limited`, nothing that can wait goes before retryAfterMs', async () => {
    const { relay, conversation, settle } = await setup();
    conversation.start();
    relay.link.handlers.onOpen();
    relay.control(joined(true, 'joined', 'des', { rate: RATE }));
    await settle();
    relay.control({ type: 'error', code: 'rate-limited', message: 'slow down', retryAfterMs: 2_000 });
    conversation.send('patience');
    await relay.advance(1_999, settle);
    expect(relay.sentFrames()).toHaveLength(0);
    await relay.advance(1, settle);
    expect(relay.sentFrames()).toHaveLength(1);
  });
});
