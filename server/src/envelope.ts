/**
 * What one relay node hands another for a connection it holds (docs/scale-out.md): a payload
 * (bytes, never parsed), a control notice, or "your connection was replaced". Pure encode and
 * decode; the payload is copied as is after a two-byte header and the connection id.
 */
import type { ServerMessage } from '@duet/core/protocol/control';
import type { Location } from './directory.ts';

export type Envelope =
  | { kind: 'binary'; conn: string; data: Buffer }
  /** `from`: where the sender sits now (partner-joined, partner-back), so frames can follow it. */
  | { kind: 'control'; conn: string; message: ServerMessage; from?: Location | undefined }
  | { kind: 'replaced'; conn: string };

const KINDS = ['binary', 'control', 'replaced'] as const;

/** kind (1 byte) ‖ connection id length (1 byte) ‖ connection id (ASCII) ‖ body. */
export function encodeEnvelope(envelope: Envelope): Buffer {
  const conn = Buffer.from(envelope.conn, 'latin1');
  if (conn.length > 255) throw new RangeError('conn id too long');
  const header = Buffer.from([KINDS.indexOf(envelope.kind), conn.length]);
  const body =
    envelope.kind === 'binary'
      ? envelope.data
      : envelope.kind === 'control'
        ? Buffer.from(JSON.stringify({ message: envelope.message, from: envelope.from }))
        : Buffer.alloc(0);
  return Buffer.concat([header, conn, body]);
}

/** Envelopes come only from other relay nodes, so a malformed one is a bug: it throws. */
export function decodeEnvelope(bytes: Buffer): Envelope {
  const kind = KINDS[bytes[0] ?? -1];
  const length = bytes[1];
  if (kind === undefined || length === undefined || bytes.length < 2 + length)
    throw new Error('bad envelope');
  const conn = bytes.subarray(2, 2 + length).toString('latin1');
  const body = bytes.subarray(2 + length);
  switch (kind) {
    case 'binary':
      return { kind, conn, data: body };
    case 'control': {
      const { message, from } = JSON.parse(body.toString('utf8')) as {
        message: ServerMessage;
        from?: Location;
      };
      return { kind, conn, message, from };
    }
    case 'replaced':
      return { kind, conn };
    default: {
      const unhandled: never = kind;
      throw new Error(`unhandled envelope ${String(unhandled)}`);
    }
  }
}

/**
 * Several envelopes for one node, sent as one message: BATCH (1 byte) ‖ for each, its length
 * (4 bytes, big-endian) ‖ the envelope. BATCH is no envelope kind, so that a node can still read
 * a lone envelope from a node that does not batch (a rolling upgrade).
 */
export const BATCH = 0xff;

export function encodeEnvelopes(envelopes: readonly Envelope[]): Buffer {
  const parts: Buffer[] = [Buffer.from([BATCH])];
  for (const envelope of envelopes) {
    const bytes = encodeEnvelope(envelope);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  }
  return Buffer.concat(parts);
}

/** A batch (or a lone envelope) as its envelopes, in order; a malformed one throws. */
export function decodeEnvelopes(bytes: Buffer): Envelope[] {
  if (bytes[0] !== BATCH) return [decodeEnvelope(bytes)];
  const envelopes: Envelope[] = [];
  let at = 1;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) throw new Error('bad envelope batch');
    const length = bytes.readUInt32BE(at);
    const end = at + 4 + length;
    if (end > bytes.length) throw new Error('bad envelope batch');
    envelopes.push(decodeEnvelope(bytes.subarray(at + 4, end)));
    at = end;
  }
  return envelopes;
}

/** Carries envelopes to other nodes; a node's own connections never go through it. */
export interface Bus {
  /** This node's id. */
  readonly node: string;
  publish(node: string, envelope: Envelope): void;
  /** Envelopes other nodes sent to this one. */
  onEnvelope(handler: (envelope: Envelope) => void): void;
  close(): Promise<void>;
}

/** The single-process bus: there are no other nodes. */
export function localBus(node: string): Bus {
  return {
    node,
    publish(to) {
      throw new Error(`no route to node ${to}: the relay runs without Redis`);
    },
    onEnvelope() {},
    close: () => Promise.resolve(),
  };
}
