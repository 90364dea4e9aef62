/**
 * What travels inside a suite's encrypted text: a chat message with its id, a receipt, or a
 * message of the direct path.
 * The suites encrypt and authenticate; this layer numbers messages so that each is shown once,
 * in order, across reconnects, and acknowledges them end to end.
 *
 *   m:<sender instance>:<id>:<text>      a chat message (text runs to the end, unescaped)
 *   r:<sender instance>:<up to>          "I have shown every message of that instance up to id"
 *   p:<json>                             a message of the direct path (path-messages.ts), `modern` only
 *
 * The sender instance is 16 hex digits chosen at random per conversation (per tab), so that a
 * partner who reloads starts a fresh sequence instead of looking like a replay.
 */
import { duetError } from '../errors.ts';
import { decodePathMessage, encodePathMessage, type PathMessage } from './path-messages.ts';

export type Envelope =
  | { kind: 'message'; instance: string; id: number; text: string }
  | { kind: 'receipt'; instance: string; upTo: number }
  | { kind: 'path'; message: PathMessage };

const INSTANCE = /^[0-9a-f]{16}$/;
const COUNTER = /^(0|[1-9][0-9]{0,14})$/;

export function encodeEnvelope(envelope: Envelope): string {
  switch (envelope.kind) {
    case 'message':
      return `m:${envelope.instance}:${envelope.id}:${envelope.text}`;
    case 'receipt':
      return `r:${envelope.instance}:${envelope.upTo}`;
    case 'path':
      return `p:${encodePathMessage(envelope.message)}`;
    // Stryker disable all: unreachable: the switch is exhaustive (the type checker proves it)
    default: {
      const never: never = envelope;
      throw new Error(`unknown envelope ${String(never)}`);
    }
  }
}

// Stryker restore all
/** Throws DuetError('bad-frame') for anything `encodeEnvelope` would not produce. */
export function decodeEnvelope(text: string): Envelope {
  if (text.startsWith('p:')) return { kind: 'path', message: decodePathMessage(text.slice(2)) };
  const [kind, instance, counter] = text.split(':', 3);
  // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent: a missing part would be tested as the text "undefined", which neither pattern takes; the checks narrow the types
  if (instance === undefined || counter === undefined || !INSTANCE.test(instance) || !COUNTER.test(counter)) {
    throw duetError('bad-frame', 'not an envelope');
  }
  const number = Number(counter);
  if (kind === 'r' && text.length === 2 + instance.length + 1 + counter.length) {
    return { kind: 'receipt', instance, upTo: number };
  }
  const prefix = `m:${instance}:${counter}:`;
  // Stryker disable next-line ConditionalExpression: equivalent: only a text whose kind is `m` starts with the prefix; the check says what is meant
  if (kind === 'm' && number >= 1 && text.startsWith(prefix)) {
    return { kind: 'message', instance, id: number, text: text.slice(prefix.length) };
  }
  throw duetError('bad-frame', 'not an envelope');
}
