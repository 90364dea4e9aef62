/**
 * What the conversation tells the app about the handshake and the room, beyond status: the
 * safety code, a partner trying again after a mismatch, a joiner refused for the other suite.
 * A stub channel stands in for the suite, so that each effect is produced on demand.
 */
import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../src/protocol/control.ts';
import type { ChannelEffect, SecureChannel } from '../src/session/channel.ts';
import { Conversation, type ConversationEvent, type LinkHandlers } from '../src/session/conversation.ts';

const ROOM = 'events-test';

function setup(onStart: ChannelEffect[], onGrant: ChannelEffect[] = []) {
  const events: ConversationEvent[] = [];
  let handlers: LinkHandlers | undefined;
  const channel: SecureChannel = {
    suite: 'modern',
    maxDataBytes: 0,
    start: async () => onStart,
    grant: async () => onGrant,
    retry: async () => [],
    receive: async () => [],
    send: async () => [],
    reset: () => undefined,
  };
  const conversation = new Conversation({
    room: ROOM,
    suite: 'modern',
    channel,
    connect: (h) => {
      handlers = h;
      return { sendText: () => undefined, sendBinary: () => undefined, close: () => undefined };
    },
    timers: { set: () => 0, clear: () => undefined },
    onEvent: (event) => events.push(event),
  });
  conversation.start();
  handlers?.onOpen();
  const control = (message: ServerMessage) => handlers?.onText(JSON.stringify(message));
  control({
    type: 'joined',
    room: ROOM,
    suite: 'modern',
    role: 'initiator',
    partner: true,
    partnerAway: false,
    token: 'ab'.repeat(16),
  });
  return { conversation, events, control };
}

const of = <T extends ConversationEvent['type']>(events: ConversationEvent[], type: T) =>
  events.filter((e) => e.type === type);

describe('conversation events', () => {
  it('passes the safety code on when the channel becomes ready', async () => {
    const { conversation, events } = setup([{ type: 'ready', safetyCode: [1, 2, 3, 4, 5] }]);
    await conversation.settled();
    expect(of(events, 'safety-code')).toEqual([{ type: 'safety-code', code: [1, 2, 3, 4, 5] }]);
    expect(conversation.status).toBe('ready');
  });

  it('a ready channel without a safety code (des) emits none', async () => {
    const { conversation, events } = setup([{ type: 'ready' }]);
    await conversation.settled();
    expect(of(events, 'safety-code')).toEqual([]);
  });

  it('tells the app when the partner tries again while this side is failed', async () => {
    const { conversation, events, control } = setup(
      [{ type: 'failed', code: 'passphrase-mismatch' }],
      [{ type: 'partner-retried' }],
    );
    await conversation.settled();
    expect(conversation.status).toBe('failed');
    control({ type: 'handshake', attempt: 2, nonce: 'cd'.repeat(16) });
    await conversation.settled();
    expect(of(events, 'partner-retried')).toEqual([{ type: 'partner-retried' }]);
    expect(conversation.status).toBe('failed');
  });

  it('tells the app when a joiner was refused for asking for the other suite', async () => {
    const { conversation, events, control } = setup([]);
    control({ type: 'partner-refused', code: 'suite-mismatch', suite: 'des' });
    await conversation.settled();
    expect(of(events, 'partner-refused')).toEqual([
      { type: 'partner-refused', code: 'suite-mismatch', suite: 'des' },
    ]);
    expect(of(events, 'problem')).toEqual([]);
  });
});
