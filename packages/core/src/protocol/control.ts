/**
 * The relay's control protocol: JSON text frames between a client and the relay.
 * Payloads travel as binary frames and are never described here: the relay does not parse them.
 * docs/protocol.md is the human-readable version of this file; keep the two in step.
 */
import { z } from 'zod/mini';
import { duetError, RELAY_ERROR_CODES, type RelayErrorCode } from '../errors.ts';
import { ROOM_MAX_LENGTH, ROOM_MIN_LENGTH, ROOM_PATTERN, SUITE_IDS, type SuiteId } from './names.ts';

/** Control text frames larger than this are refused unparsed. */
export const MAX_CONTROL_BYTES = 1024;

export { ROOM_PATTERN, SUITE_IDS, type SuiteId };

/**
 * The version of each suite's payloads. Two pages whose versions differ cannot understand each
 * other, so they send it in `join` and the relay seats only equal versions together (it answers
 * `suite-mismatch` otherwise). A `join` without it is version 1: pages from before versions.
 * `modern` 2 is the Double Ratchet (1 was a symmetric ratchet), 3 adds the direct path's
 * messages (`p:`) and the file chunks' `data` frames (type 0x11), both of which a version 2 page
 * would refuse as `bad-frame`; `des` 2 is the original
 * design's wire, the text alone (1 carried Duet's envelope inside); docs/protocol.md, "Versions".
 */
export const SUITE_VERSIONS: Readonly<Record<SuiteId, number>> = { modern: 3, des: 2 };

/** Room codes (names.ts): lowercase letters, digits and single hyphens, 3 to 64 characters. */
export const roomCode = z
  .string()
  .check(z.minLength(ROOM_MIN_LENGTH), z.maxLength(ROOM_MAX_LENGTH), z.regex(ROOM_PATTERN));

export { RELAY_ERROR_CODES, type RelayErrorCode };

/** Seat 0 (first in) is the initiator, seat 1 the responder: roles come from the relay. */
export type Role = 'initiator' | 'responder';

/** A seat token: 16 random bytes as hex. Whoever holds it can take the seat back after a drop. */
export const seatToken = z.string().check(z.regex(/^[0-9a-f]{32}$/));

/** The most a `version` can be; any integer from 1 up is passed on and compared, never interpreted. */
export const MAX_SUITE_VERSION = 0xffff;

/**
 * Takes a seat. `token`, chosen by the client, is the seat's token from then on; sent again
 * after a lost `joined`, it gets the same seat back (docs/protocol.md, "Lost answers"). Without
 * it the relay picks one, and a lost answer cannot be recovered.
 */
const join = z.strictObject({
  type: z.literal('join'),
  room: z.string(),
  suite: z.string(),
  token: z.optional(seatToken),
  /** The suite's payload version (SUITE_VERSIONS); absent means 1. */
  version: z.optional(z.int().check(z.minimum(1), z.maximum(MAX_SUITE_VERSION))),
  /**
   * `modern`: when this join fills the room, grant the first handshake attempt at once (to both
   * seats, as `handshake`), instead of when the initiator asks: a round trip off the handshake.
   */
  grantOnSeat: z.optional(z.literal(true)),
});
const leave = z.strictObject({ type: z.literal('leave') });
/** Asks the relay for a handshake attempt (the `modern` suite); see `handshake` below. */
const handshake = z.strictObject({ type: z.literal('handshake') });
/**
 * Takes back a seat held since this client's connection dropped, with the seat's token, and
 * moves the seat to `next` (chosen by the client). Repeated with the same pair after a lost
 * `resumed`, it still matches. Without `next` the relay picks the new token.
 */
const resume = z.strictObject({
  type: z.literal('resume'),
  room: z.string(),
  token: z.string(),
  next: z.optional(seatToken),
});

export const clientMessage = z.discriminatedUnion('type', [join, leave, handshake, resume]);
export type ClientMessage = z.infer<typeof clientMessage>;

/**
 * The relay's per-connection frame rate (MESSAGE_BURST, MESSAGES_PER_SECOND): every frame sent,
 * text or binary, takes one from a bucket of `burst` refilled at `perSecond`. Clients pace
 * their frames to stay within it.
 */
export const frameRate = z.strictObject({
  burst: z.int().check(z.positive()),
  perSecond: z.number().check(z.positive()),
});
export type FrameRate = z.infer<typeof frameRate>;

const seated = {
  room: roomCode,
  suite: z.enum(SUITE_IDS),
  role: z.enum(['initiator', 'responder']),
  /** Whether the other seat is taken (its holder may be away, see `partnerAway`). */
  partner: z.boolean(),
  /** Whether the partner's seat is held for it while its connection is down. */
  partnerAway: z.boolean(),
  /** The token for `resume`: the one the client chose, or one the relay picked for it. */
  token: seatToken,
  /** The relay's frame rate for this connection (absent from relays older than this field). */
  rate: z.optional(frameRate),
};

export const serverMessage = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('joined'), ...seated }),
  z.strictObject({ type: z.literal('resumed'), ...seated }),
  z.strictObject({ type: z.literal('partner-joined') }),
  z.strictObject({ type: z.literal('partner-left') }),
  /** The partner's connection dropped; its seat is held for the grace period. */
  z.strictObject({ type: z.literal('partner-away') }),
  /** The partner took its held seat back. */
  z.strictObject({ type: z.literal('partner-back') }),
  /** The relay has received `frames` binary frames from this connection so far (coalesced). */
  z.strictObject({ type: z.literal('ack'), frames: z.int().check(z.nonnegative()) }),
  /**
   * A handshake attempt granted to both seats at once. `attempt` counts up per room; `nonce`
   * (16 random bytes, hex) is the relay's contribution to the CPace session id. Clients answer
   * handshake frames only inside a granted attempt, so the relay's per-room budget bounds
   * online passphrase guessing even against a partner that ignores its own back-off.
   */
  z.strictObject({
    type: z.literal('handshake'),
    attempt: z.int().check(z.nonnegative()),
    nonce: z.string().check(z.regex(/^[0-9a-f]{32}$/)),
  }),
  /**
   * Someone asked for a seat in this room with the other suite and was refused
   * (`suite-mismatch`): told to whoever sits in the room, so that both sides know.
   */
  z.strictObject({
    type: z.literal('partner-refused'),
    code: z.literal('suite-mismatch'),
    suite: z.enum(SUITE_IDS),
  }),
  z.strictObject({
    type: z.literal('error'),
    code: z.enum(RELAY_ERROR_CODES),
    message: z.string(),
    /** With `rate-limited`: how long to wait before asking again. */
    retryAfterMs: z.optional(z.int().check(z.nonnegative())),
    /** Coalesced: this one error stands for `count` identical ones since the last of its code. */
    count: z.optional(z.int().check(z.positive())),
  }),
]);
export type ServerMessage = z.infer<typeof serverMessage>;

const CLIENT_TYPES = new Set<string>(
  clientMessage.def.options.flatMap((option) => option.shape.type.def.values),
);

/**
 * Parses one client control frame. Throws a DuetError whose code says what was wrong:
 * `too-large`, `bad-json`, `unknown-type`, `bad-message`, `bad-room` or `bad-suite`.
 */
export function parseClientMessage(text: string): ClientMessage {
  if (text.length > MAX_CONTROL_BYTES) throw duetError('too-large', 'control frame too large');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw duetError('bad-json', 'control frame is not JSON', cause);
  }
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  if (typeof type !== 'string' || !CLIENT_TYPES.has(type)) {
    throw duetError('unknown-type', 'control frame has no known type');
  }
  const parsed = clientMessage.safeParse(value);
  if (!parsed.success)
    throw duetError('bad-message', `malformed ${type}: ${parsed.error.issues[0]?.message ?? ''}`);
  if (parsed.data.type === 'join') {
    if (!roomCode.safeParse(parsed.data.room).success) throw duetError('bad-room', 'room code is not valid');
    if (!(SUITE_IDS as readonly string[]).includes(parsed.data.suite))
      throw duetError('bad-suite', 'unknown suite');
  }
  return parsed.data;
}

/** Parses one relay control frame on the client side; throws `bad-message` on anything else. */
export function parseServerMessage(text: string): ServerMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw duetError('bad-message', 'relay sent a frame that is not JSON', cause);
  }
  const parsed = serverMessage.safeParse(value);
  if (!parsed.success) throw duetError('bad-message', 'relay sent an unknown control frame');
  return parsed.data;
}

/**
 * Parses one relay message of every kind, for nothing but this: a schema's first parse builds
 * it (zod does so lazily) and runs cold, 5 to 12 ms in a freshly loaded page, which a joiner
 * would otherwise pay on its first `joined`, on the way to a secure channel. A page runs it
 * while it waits (session/suites.ts, `rehearseSuite`). Returns the kinds parsed.
 */
export function rehearseControl(): ServerMessage['type'][] {
  const seat = {
    room: 'rehearsal-room',
    suite: 'modern',
    role: 'responder',
    partner: true,
    partnerAway: false,
    token: '00'.repeat(16),
    rate: { burst: 100, perSecond: 50 },
  } as const;
  const messages: ServerMessage[] = [
    { type: 'joined', ...seat },
    { type: 'resumed', ...seat },
    { type: 'partner-joined' },
    { type: 'partner-left' },
    { type: 'partner-away' },
    { type: 'partner-back' },
    { type: 'ack', frames: 1 },
    { type: 'handshake', attempt: 1, nonce: '00'.repeat(16) },
    { type: 'partner-refused', code: 'suite-mismatch', suite: 'des' },
    { type: 'error', code: 'rate-limited', message: 'rehearsal', retryAfterMs: 1, count: 2 },
  ];
  return messages.map((message) => parseServerMessage(JSON.stringify(message)).type);
}

export function encodeControl(message: ClientMessage | ServerMessage): string {
  return JSON.stringify(message);
}
