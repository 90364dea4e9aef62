/**
 * The messages of the direct path, carried inside the channel like chat messages (envelope kind
 * `p`, see envelope.ts): encrypted and authenticated by the suite, so the relay never sees an
 * SDP, a candidate or an address, and nobody but the partner can send one.
 *
 * Two machines speak them:
 * - the dialer (direct-dialer.ts): `prefs`, `offer`, `answer`, `candidate`, `bye`: whether and
 *   how the two browsers open a WebRTC data channel;
 * - the path switch (path-switch.ts): `switch`, `ping`, `pong`: which path carries the frames,
 *   the probe that confirms the data channel, and the heartbeat that notices a stall.
 *
 * On the wire each is one JSON object keyed on `t`; anything else is `bad-frame`.
 */
import { z } from 'zod/mini';
import { duetError } from '../errors.ts';

/** Largest SDP accepted (a data-channel-only description is well under 2 KiB). */
export const MAX_SDP_CHARS = 8192;
/** Largest ICE candidate line accepted. */
export const MAX_CANDIDATE_CHARS = 1024;

// zod/mini, like control.ts: this loads with the conversation, and full zod would double its size.
const counter = z.int().check(z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER));
const attempt = z.int().check(z.minimum(1), z.maximum(Number.MAX_SAFE_INTEGER));
const sdp = z.string().check(z.minLength(1), z.maxLength(MAX_SDP_CHARS));

const pathMessage = z.discriminatedUnion('t', [
  /** Whether this side accepts a direct path ("Always use the relay" unset). */
  z.strictObject({ t: z.literal('prefs'), direct: z.boolean() }),
  /** The initiator's offer, and the responder's answer, for one attempt. */
  z.strictObject({ t: z.literal('offer'), attempt, sdp }),
  z.strictObject({ t: z.literal('answer'), attempt, sdp }),
  /** One trickled ICE candidate (an empty `candidate` ends the list). */
  z.strictObject({
    t: z.literal('candidate'),
    attempt,
    candidate: z.string().check(z.maxLength(MAX_CANDIDATE_CHARS)),
    sdpMid: z.nullable(z.string().check(z.maxLength(64))),
    sdpMLineIndex: z.nullable(z.int().check(z.minimum(0), z.maximum(1024))),
  }),
  /** This side closed the direct link of `attempt` (or declines it); the relay carries on. */
  z.strictObject({ t: z.literal('bye'), attempt }),
  /** The last frame this side sends on the relay before its frames go on the link of `attempt`. */
  z.strictObject({ t: z.literal('switch'), attempt }),
  /** Answer with `pong` (the first ping on a new link is the probe). */
  z.strictObject({ t: z.literal('ping'), n: counter }),
  z.strictObject({ t: z.literal('pong'), n: counter }),
]);

export type PathMessage = z.infer<typeof pathMessage>;

export function encodePathMessage(message: PathMessage): string {
  return JSON.stringify(message);
}

/** Throws DuetError('bad-frame') for anything `encodePathMessage` would not produce. */
export function decodePathMessage(text: string): PathMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw duetError('bad-frame', 'path message is not JSON', cause);
  }
  const parsed = pathMessage.safeParse(value);
  if (!parsed.success) throw duetError('bad-frame', 'not a path message');
  return parsed.data;
}
