/**
 * The conversation's seam for binary payloads (attachPayloads): when the payload machine is
 * told the path is up or down, how its payloads go out in turn with messages, and what happens
 * to a payload nobody handles. A see-through fake channel keeps the crypto out of the way.
 */
import { describe, expect, it } from 'vitest';
import { concatBytes, partsOf, utf8DecodeStrict, utf8Encode } from '../src/bytes.ts';
import type { ServerMessage } from '../src/protocol/control.ts';
import type { ChannelEffect, SecureChannel } from '../src/session/channel.ts';
import {
  Conversation,
  type ConversationEvent,
  type LinkHandlers,
  type PayloadHandler,
} from '../src/session/conversation.ts';

/** Frames are a tag byte (0: text, 1: bytes) and the plaintext: no crypto, just the contract. */
function clearChannel(): SecureChannel {
  return {
    suite: 'modern',
    maxDataBytes: 1000,
    start: async () => [{ type: 'ready' }],
    grant: async () => [],
    retry: async () => [],
    receive: async (frame): Promise<ChannelEffect[]> => {
      const body = frame.subarray(1);
      return frame[0] === 0
        ? [{ type: 'message', text: utf8DecodeStrict(body) }]
        : [{ type: 'data', bytes: body }];
    },
    send: async (payload) => {
      const frame =
        typeof payload === 'string'
          ? concatBytes(Uint8Array.of(0), utf8Encode(payload))
          : concatBytes(Uint8Array.of(1), ...partsOf(payload));
      return [{ type: 'transmit', frame }];
    },
    reset: () => undefined,
  };
}

function setup(now?: () => number) {
  const links: { handlers: LinkHandlers; frames: Uint8Array[]; buffered: number }[] = [];
  const events: ConversationEvent[] = [];
  const calls: string[] = [];
  const received: Uint8Array[] = [];
  let timers: (() => void)[] = [];
  const conversation = new Conversation({
    room: 'payload-test',
    suite: 'modern',
    channel: clearChannel(),
    random: (n) => new Uint8Array(n).fill(0x22),
    connect: (handlers) => {
      const link = { handlers, frames: [] as Uint8Array[], buffered: 0 };
      links.push(link);
      return {
        sendText: () => undefined,
        sendBinary: (bytes) => link.frames.push(bytes),
        close: () => undefined,
        get bufferedAmount() {
          return link.buffered;
        },
      };
    },
    timers: { set: (callback) => timers.push(callback), clear: () => undefined },
    onEvent: (event) => events.push(event),
    ...(now ? { now } : {}),
  });
  const fireTimers = () => {
    const due = timers;
    timers = [];
    for (const callback of due) callback();
  };
  const handler: PayloadHandler = {
    receive: (bytes) => received.push(bytes),
    pathUp: () => calls.push('up'),
    pathDown: () => calls.push('down'),
    ended: (why) => calls.push(`ended ${why}`),
  };
  const port = conversation.attachPayloads(handler);
  const link = () => links[links.length - 1]!;
  const control = (message: ServerMessage) => link().handlers.onText(JSON.stringify(message));
  const seated = (type: 'joined' | 'resumed' = 'joined'): ServerMessage => ({
    type,
    room: 'payload-test',
    suite: 'modern',
    role: 'initiator',
    partner: true,
    partnerAway: false,
    token: 'cd'.repeat(16),
  });
  /** Connects, joins with the partner present, and lets the channel get ready. */
  async function ready() {
    conversation.start();
    link().handlers.onOpen();
    control(seated());
    await conversation.settled();
  }
  return { conversation, port, calls, received, events, link, control, seated, ready, fireTimers };
}

describe('conversation: payload seam', () => {
  it('tells the payload machine the path is up once the channel is ready, and carries its payloads both ways', async () => {
    const { conversation, port, calls, received, link, ready } = setup();
    expect(port.maxBytes).toBe(1000);
    await ready();
    expect(calls).toEqual(['up']);
    expect(await port.send(Uint8Array.of(7, 8))).toBe(true);
    expect(link().frames).toEqual([Uint8Array.of(1, 7, 8)]);
    link().handlers.onBinary(Uint8Array.of(1, 9));
    await conversation.settled();
    expect(received).toEqual([Uint8Array.of(9)]);
  });

  it('payloads and messages go out in the order they were queued', async () => {
    const { conversation, port, link, ready } = setup();
    await ready();
    const first = port.send(Uint8Array.of(1));
    conversation.send('between');
    const second = port.send(Uint8Array.of(2));
    await Promise.all([first, second, conversation.settled()]);
    expect(link().frames.map((f) => f[0])).toEqual([1, 0, 1]);
  });

  it('the path goes down while the partner is away (payloads are not sent) and up when it is back', async () => {
    const { port, calls, link, control, ready } = setup();
    await ready();
    control({ type: 'partner-away' });
    expect(calls).toEqual(['up', 'down']);
    expect(await port.send(Uint8Array.of(1))).toBe(false);
    expect(link().frames).toEqual([]);
    control({ type: 'partner-back' });
    expect(calls).toEqual(['up', 'down', 'up']);
  });

  it('the path goes down with our link and up again after resume', async () => {
    const { conversation, calls, link, control, seated, ready, fireTimers } = setup();
    await ready();
    link().handlers.onClose();
    expect(calls).toEqual(['up', 'down']);
    fireTimers(); // reconnects
    link().handlers.onOpen();
    expect(calls).toEqual(['up', 'down']);
    control(seated('resumed'));
    await conversation.settled();
    expect(calls).toEqual(['up', 'down', 'up']);
  });

  it('holds bulk back while the relay frame rate would make a message wait, and lets it go again in time', async () => {
    let clock = 1_000_000;
    const { conversation, port, link, control, seated } = setup(() => clock);
    conversation.start();
    link().handlers.onOpen();
    // The relay allows 2 frames at once, then 1 a second: this client takes half and 80 % of it.
    control({ ...seated(), rate: { burst: 2, perSecond: 1 } } as ServerMessage);
    await conversation.settled();
    expect(port.backlog).toBe(Number.POSITIVE_INFINITY); // the join spent the one frame it had
    clock += 5_000;
    expect(port.backlog).toBe(0);
    expect(await port.send(Uint8Array.of(1))).toBe(true);
    expect(port.backlog).toBe(Number.POSITIVE_INFINITY);
    clock += 1_250; // one frame's worth at 0.8 a second
    expect(port.backlog).toBe(0);
  });

  it('reports our socket backlog to the payload machine', async () => {
    const { port, link, ready } = setup();
    await ready();
    link().buffered = 12345;
    expect(port.backlog).toBe(12345);
  });

  it('ends the payload machine when the user leaves, and on a fatal error', async () => {
    const left = setup();
    await left.ready();
    left.conversation.leave();
    expect(left.calls).toEqual(['up', 'ended left']);
    expect(await left.port.send(Uint8Array.of(1))).toBe(false);

    const fatal = setup();
    fatal.conversation.start();
    fatal.link().handlers.onOpen();
    fatal.control({ type: 'error', code: 'room-full', message: 'full' });
    expect(fatal.calls).toEqual(['ended room-full']);
  });

  it('a payload with no machine attached is refused as bad-frame, and the conversation goes on', async () => {
    const events: ConversationEvent[] = [];
    let handlers: LinkHandlers | undefined;
    const conversation = new Conversation({
      room: 'payload-test',
      suite: 'modern',
      channel: clearChannel(),
      connect: (h) => {
        handlers = h;
        return { sendText: () => undefined, sendBinary: () => undefined, close: () => undefined };
      },
      timers: { set: () => undefined, clear: () => undefined },
      onEvent: (event) => events.push(event),
    });
    conversation.start();
    handlers!.onOpen();
    handlers!.onBinary(Uint8Array.of(1, 2, 3));
    await conversation.settled();
    expect(events).toContainEqual({ type: 'problem', code: 'bad-frame', fatal: false });
  });
});
