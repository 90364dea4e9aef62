/**
 * The conversation's wiring, against a scripted relay: what it sends, when it reconnects,
 * what it resends, and what the user is told. Real `des` channels; fake socket and timers.
 */
import { describe, expect, it } from 'vitest';
import { roomSalt } from '../src/crypto/des-suite.ts';
import type { ServerMessage } from '../src/protocol/control.ts';
import { createDesChannel } from '../src/session/des-channel.ts';
import { Conversation, type ConversationEvent, type LinkHandlers } from '../src/session/conversation.ts';
import { decodeEnvelope, encodeEnvelope } from '../src/session/envelope.ts';

const ROOM = 'conversation-test';
const TOKEN = 'ab'.repeat(16);
const INSTANCE = '11'.repeat(8); // from the fixed `random` below

class ScriptedRelay {
  links: { handlers: LinkHandlers; sent: (string | Uint8Array)[]; closed?: number }[] = [];
  timers: { callback: () => void; ms: number }[] = [];

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
  fireTimers(): void {
    const due = this.timers.splice(0);
    for (const timer of due) timer.callback();
  }
}

async function setup() {
  const relay = new ScriptedRelay();
  const salt = await roomSalt(ROOM);
  const events: ConversationEvent[] = [];
  const conversation = new Conversation({
    room: ROOM,
    suite: 'des',
    channel: createDesChannel({ passphrase: 'pw', salt }),
    random: (n) => new Uint8Array(n).fill(0x11),
    connect: (handlers) => {
      const link: ScriptedRelay['links'][number] = { handlers, sent: [] };
      relay.links.push(link);
      return {
        sendText: (text) => link.sent.push(text),
        sendBinary: (bytes) => link.sent.push(bytes),
        close: (code) => (link.closed = code),
      };
    },
    timers: {
      set: (callback, ms) => relay.timers.push({ callback, ms }),
      clear: () => undefined,
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

const joined = (partner: boolean, type: 'joined' | 'resumed' = 'joined'): ServerMessage => ({
  type,
  room: ROOM,
  suite: 'des',
  role: 'initiator',
  partner,
  partnerAway: false,
  token: TOKEN,
});

const statuses = (events: ConversationEvent[]) =>
  events.filter((e) => e.type === 'status').map((e) => (e.type === 'status' ? e.status : ''));

describe('conversation', () => {
  it('joins, waits, gets ready, and takes a message from sending to sent to delivered', async () => {
    const { relay, conversation, events, partner, settle } = await setup();
    conversation.start();
    relay.link.handlers.onOpen();
    expect(relay.sentControl()).toEqual([{ type: 'join', room: ROOM, suite: 'des' }]);
    relay.control(joined(false));
    relay.control({ type: 'partner-joined' });
    await settle();
    expect(statuses(events)).toEqual(['connecting', 'waiting', 'handshaking', 'ready']);

    const id = conversation.send('hello');
    await settle();
    const [frame] = relay.sentFrames();
    const [effect] = await partner.receive(frame!);
    expect(effect?.type === 'message' && decodeEnvelope(effect.text)).toEqual({
      kind: 'message',
      instance: INSTANCE,
      id,
      text: 'hello',
    });
    relay.control({ type: 'ack', frames: 1 });
    const [receipt] = await partner.send(encodeEnvelope({ kind: 'receipt', instance: INSTANCE, upTo: id }));
    relay.link.handlers.onBinary(receipt?.type === 'transmit' ? receipt.frame : new Uint8Array());
    await settle();
    expect(events.filter((e) => e.type === 'delivery')).toEqual([
      { type: 'delivery', id, status: 'sent' },
      { type: 'delivery', id, status: 'delivered' },
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
    // The first reconnection waits 250 ms ± 20 % (the other timer is the retransmission's).
    expect(relay.timers.some((timer) => timer.ms >= 200 && timer.ms <= 300)).toBe(true);
    relay.fireTimers();
    relay.link.handlers.onOpen();
    expect(relay.sentControl()).toEqual([{ type: 'resume', room: ROOM, token: TOKEN }]);
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
      { type: 'resume', room: ROOM, token: TOKEN },
      { type: 'join', room: ROOM, suite: 'des' },
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
});
