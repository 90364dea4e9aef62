/**
 * The `modern` suite's binary frames: pure encode/decode, nothing else.
 *
 * Every frame starts with the same 3-byte header: version (2), suite (1 = modern), type. Integers
 * are big-endian. Lengths are exact: a frame whose length does not match its type is malformed.
 *
 * | type | name    | body after the header                                              | size        |
 * |------|---------|--------------------------------------------------------------------|-------------|
 * | 0x01 | hello   | attempt u32 ‖ client nonce (16)                                    | 23          |
 * | 0x02 | cpace-a | attempt u32 ‖ Ya (32) ‖ len u8 ‖ ADa (len ≤ 64)                    | 40 + len    |
 * | 0x03 | cpace-b | attempt u32 ‖ Yb (32) ‖ len u8 ‖ ADb (len ≤ 64) ‖ Tb (64)          | 104 + len   |
 * | 0x04 | confirm | attempt u32 ‖ Ta (64)                                              | 71          |
 * | 0x05 | abort   | attempt u32 ‖ reason u8 (1 passphrase-mismatch, 2 handshake-failed) | 8           |
 * | 0x10 | message | dh (32) ‖ pn u32 ‖ n u32 ‖ AES-256-GCM(padded text) ‖ tag (16) ‖ MAC (16) | 43 + b + 32 |
 * | 0x11 | data    | dh (32) ‖ pn u32 ‖ n u32 ‖ AES-256-GCM(padded bytes) ‖ tag (16) ‖ MAC (16) | 43 + b + 32 |
 *
 * For `message` and `data` (the Double Ratchet's payload frames, session/double-ratchet.ts): dh
 * is the sender's ratchet public key, pn the length of its previous sending chain, n the frame's
 * number in this one; b is one of the padding buckets (crypto/padding.ts: up to 20 KiB for a
 * text, 60 KiB for a binary payload such as a file chunk). The 43-byte header (version, suite,
 * type, dh, pn, n) is the AEAD's associated data, and the MAC covers every byte before it: the
 * type byte is authenticated, so a payload cannot pass for a text. Both types share one chain.
 * Decoding anything malformed, unknown or oversized throws DuetError('bad-frame'); nothing else
 * is thrown.
 */
import { concatBytes } from '../bytes.ts';
import { duetError } from '../errors.ts';
import { SUITE_VERSIONS } from '../protocol/control.ts';
import { isPaddedLength, MAX_DATA_PADDED_BYTES, MAX_PADDED_BYTES, MIN_PADDED_BYTES } from './padding.ts';

/** The `modern` version (3: the Double Ratchet with the direct path; 2 had no direct path; 1 was a symmetric ratchet). */
export const FRAME_VERSION = SUITE_VERSIONS.modern;
export const SUITE_BYTE_MODERN = 1;
export const NONCE_BYTES = 16;
export const SHARE_BYTES = 32;
export const TAG_BYTES = 64;
export const MAX_AD_BYTES = 64;
export const AEAD_TAG_BYTES = 16;
export const RATCHET_KEY_BYTES = 32;
export const MESSAGE_MAC_BYTES = 16;
/** version, suite, type, dh, pn u32, n u32: the associated data of a message or data frame. */
export const MESSAGE_HEADER_BYTES = 3 + RATCHET_KEY_BYTES + 4 + 4;
export const MAX_ATTEMPT = 0xffff_ffff;
/** The largest message number and previous-chain length a header can carry. */
export const MAX_MESSAGE_NUMBER = 0xffff_ffff;
/** Header, tag and MAC: what a payload frame adds to its padded body. */
export const PAYLOAD_OVERHEAD_BYTES = MESSAGE_HEADER_BYTES + AEAD_TAG_BYTES + MESSAGE_MAC_BYTES;
/** The largest frame: a data frame with the largest bucket (61,515 bytes). */
export const MAX_FRAME_BYTES = PAYLOAD_OVERHEAD_BYTES + MAX_DATA_PADDED_BYTES;

const TYPE_BYTES = {
  hello: 0x01,
  'cpace-a': 0x02,
  'cpace-b': 0x03,
  confirm: 0x04,
  abort: 0x05,
  message: 0x10,
  data: 0x11,
} as const;

export type AbortReason = 'passphrase-mismatch' | 'handshake-failed';
const ABORT_REASONS: readonly AbortReason[] = ['passphrase-mismatch', 'handshake-failed'];

export type ModernFrame =
  | { type: 'hello'; attempt: number; nonce: Uint8Array }
  | { type: 'cpace-a'; attempt: number; share: Uint8Array; ad: Uint8Array }
  | { type: 'cpace-b'; attempt: number; share: Uint8Array; ad: Uint8Array; tag: Uint8Array }
  | { type: 'confirm'; attempt: number; tag: Uint8Array }
  | { type: 'abort'; attempt: number; reason: AbortReason }
  | ({ type: 'message' } & PayloadFields)
  | ({ type: 'data' } & PayloadFields);

/** What a payload frame carries after its type. */
interface PayloadFields {
  dh: Uint8Array;
  pn: number;
  n: number;
  ciphertext: Uint8Array;
  mac: Uint8Array;
}

export type ModernFrameType = ModernFrame['type'];
/** The Double Ratchet's frames: a text (`message`) or a binary payload (`data`). */
export type MessageFrame = Extract<ModernFrame, { type: 'message' | 'data' }>;
export type PayloadType = MessageFrame['type'];
export type HandshakeFrame = Exclude<ModernFrame, MessageFrame>;
/** What the header says: the frame's type, the sender's ratchet public key, pn and n. */
export type MessageHeader = Pick<MessageFrame, 'dh' | 'pn' | 'n'> & { type?: PayloadType };

/** The largest padded body of each payload type. */
const MAX_BODY: Record<PayloadType, number> = { message: MAX_PADDED_BYTES, data: MAX_DATA_PADDED_BYTES };

/** Encodes one frame; throws DuetError('bad-input') if a field has the wrong size or range. */
export function encodeFrame(frame: ModernFrame): Uint8Array {
  switch (frame.type) {
    case 'hello':
      return concatBytes(header(frame.type), u32(frame.attempt), sized('nonce', frame.nonce, NONCE_BYTES));
    case 'cpace-a':
      return concatBytes(header(frame.type), u32(frame.attempt), ...share(frame.share, frame.ad));
    case 'cpace-b':
      return concatBytes(
        header(frame.type),
        u32(frame.attempt),
        ...share(frame.share, frame.ad),
        sized('tag', frame.tag, TAG_BYTES),
      );
    case 'confirm':
      return concatBytes(header(frame.type), u32(frame.attempt), sized('tag', frame.tag, TAG_BYTES));
    case 'abort':
      return concatBytes(
        header(frame.type),
        u32(frame.attempt),
        Uint8Array.of(ABORT_REASONS.indexOf(frame.reason) + 1),
      );
    case 'message':
    case 'data':
      return encodePayloadFrame(frame, [frame.ciphertext], frame.mac);
    // Stryker disable next-line all: unreachable: the switch is exhaustive (the type checker proves it)
    default:
      return unreachable(frame);
  }
}

/**
 * A `message` or `data` frame (as `fields.type` says) from its header fields, its
 * ciphertext ‖ tag in parts as sealed (crypto/frame-crypto.ts), and its MAC: the parts are copied
 * once, into the frame. Throws DuetError('bad-input') as `encodeFrame` does.
 */
export function encodePayloadFrame(
  fields: MessageHeader & { type: PayloadType },
  ciphertext: readonly Uint8Array[],
  mac: Uint8Array,
): Uint8Array {
  return concatBytes(
    messageHeader(fields),
    ...checkedCiphertext(ciphertext, MAX_BODY[fields.type]),
    sized('MAC', mac, MESSAGE_MAC_BYTES),
  );
}

/**
 * The 43-byte header of a payload frame (a `message` unless `fields.type` says `data`), which is
 * also its AEAD associated data.
 */
export function messageHeader(fields: MessageHeader): Uint8Array {
  for (const [name, value] of [
    ['pn', fields.pn],
    ['n', fields.n],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > MAX_MESSAGE_NUMBER)
      throw duetError('bad-input', `${name} must be an integer in [0, 2^32)`);
  }
  const out = new Uint8Array(MESSAGE_HEADER_BYTES);
  out.set(header(fields.type ?? 'message'));
  out.set(sized('dh', fields.dh, RATCHET_KEY_BYTES), 3);
  const view = new DataView(out.buffer);
  view.setUint32(3 + RATCHET_KEY_BYTES, fields.pn);
  view.setUint32(7 + RATCHET_KEY_BYTES, fields.n);
  return out;
}

/** Decodes one frame; throws DuetError('bad-frame') for anything that is not exactly a frame. */
export function decodeFrame(bytes: Uint8Array): ModernFrame {
  if (!(bytes instanceof Uint8Array)) throw duetError('bad-frame', 'frame must be bytes');
  if (bytes.length < 3 || bytes.length > MAX_FRAME_BYTES) throw duetError('bad-frame', 'bad frame length');
  if (bytes[0] !== FRAME_VERSION) throw duetError('bad-frame', 'unknown version');
  if (bytes[1] !== SUITE_BYTE_MODERN) throw duetError('bad-frame', 'unknown suite');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = typeOf(bytes[2] ?? 0);
  switch (type) {
    case 'hello':
      expectLength(bytes, 7 + NONCE_BYTES);
      return { type, attempt: view.getUint32(3), nonce: copyAt(bytes, 7, NONCE_BYTES) };
    case 'cpace-a': {
      const adLength = readAdLength(bytes);
      expectLength(bytes, 40 + adLength);
      return {
        type,
        attempt: view.getUint32(3),
        share: copyAt(bytes, 7, SHARE_BYTES),
        ad: copyAt(bytes, 40, adLength),
      };
    }
    case 'cpace-b': {
      const adLength = readAdLength(bytes);
      expectLength(bytes, 40 + adLength + TAG_BYTES);
      return {
        type,
        attempt: view.getUint32(3),
        share: copyAt(bytes, 7, SHARE_BYTES),
        ad: copyAt(bytes, 40, adLength),
        tag: copyAt(bytes, 40 + adLength, TAG_BYTES),
      };
    }
    case 'confirm':
      expectLength(bytes, 7 + TAG_BYTES);
      return { type, attempt: view.getUint32(3), tag: copyAt(bytes, 7, TAG_BYTES) };
    case 'abort': {
      expectLength(bytes, 8);
      const reason = ABORT_REASONS[(bytes[7] ?? 0) - 1];
      if (reason === undefined) throw duetError('bad-frame', 'unknown abort reason');
      return { type, attempt: view.getUint32(3), reason };
    }
    case 'message':
    case 'data': {
      const overhead = PAYLOAD_OVERHEAD_BYTES;
      if (bytes.length < overhead + MIN_PADDED_BYTES) throw duetError('bad-frame', 'message frame too short');
      if (!isPaddedLength(bytes.length - overhead, MAX_BODY[type]))
        throw duetError('bad-frame', 'message body is not a padding bucket');
      const macAt = bytes.length - MESSAGE_MAC_BYTES;
      return {
        type,
        dh: copyAt(bytes, 3, RATCHET_KEY_BYTES),
        pn: view.getUint32(3 + RATCHET_KEY_BYTES),
        n: view.getUint32(7 + RATCHET_KEY_BYTES),
        // A view, not a copy: a file chunk's 60 KiB are only read (checked, then opened), and
        // a copy per chunk was one more large short-lived array for the collector.
        ciphertext: bytes.subarray(MESSAGE_HEADER_BYTES, macAt),
        mac: bytes.slice(macAt),
      };
    }
    // Stryker disable next-line all: unreachable: typeOf returns one of the types above or throws
    default:
      return unreachable(type);
  }
}

/**
 * `length` bytes of `bytes` from `start`, copied: keys, nonces and tags outlive the frame. A
 * function of the module rather than a closure made per frame (under tsx every closure made per
 * frame also had its name defined: relay/ws-link.ts says what that costs).
 */
function copyAt(bytes: Uint8Array, start: number, length: number): Uint8Array {
  return bytes.slice(start, start + length);
}

const TYPES_BY_BYTE = new Map(
  Object.entries(TYPE_BYTES).map(([name, byte]) => [byte as number, name as ModernFrameType]),
);

function typeOf(byte: number): ModernFrameType {
  const type = TYPES_BY_BYTE.get(byte);
  if (type === undefined) throw duetError('bad-frame', 'unknown frame type');
  return type;
}

function header(type: ModernFrameType): Uint8Array {
  return Uint8Array.of(FRAME_VERSION, SUITE_BYTE_MODERN, TYPE_BYTES[type]);
}

function u32(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > MAX_ATTEMPT) {
    throw duetError('bad-input', 'attempt must be an integer in [0, 2^32)');
  }
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

function sized(name: string, bytes: Uint8Array, length: number): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw duetError('bad-input', `${name} must be ${length} bytes`);
  }
  return bytes;
}

function share(point: Uint8Array, ad: Uint8Array): Uint8Array[] {
  if (!(ad instanceof Uint8Array) || ad.length > MAX_AD_BYTES) {
    throw duetError('bad-input', `AD must be at most ${MAX_AD_BYTES} bytes`);
  }
  return [sized('share', point, SHARE_BYTES), Uint8Array.of(ad.length), ad];
}

function checkedCiphertext(parts: readonly Uint8Array[], maxBody: number): readonly Uint8Array[] {
  let length = 0;
  for (const part of parts) {
    if (!(part instanceof Uint8Array)) throw duetError('bad-input', 'ciphertext must be bytes');
    length += part.length;
  }
  if (!isPaddedLength(length - AEAD_TAG_BYTES, maxBody))
    throw duetError('bad-input', 'ciphertext must be a padded bucket + tag');
  return parts;
}

function readAdLength(bytes: Uint8Array): number {
  const length = bytes[39];
  // Stryker disable next-line ConditionalExpression: equivalent: without the undefined check, a frame too short to hold the AD length fails expectLength(40 + undefined) as bad-frame all the same
  if (length === undefined || length > MAX_AD_BYTES) throw duetError('bad-frame', 'bad AD length');
  return length;
}

function expectLength(bytes: Uint8Array, length: number): void {
  if (bytes.length !== length) throw duetError('bad-frame', 'frame length does not match its type');
}

// Stryker disable all: unreachable (see the two switches above)
function unreachable(value: never): never {
  throw duetError('bad-frame', `unhandled frame ${String(value)}`);
}
// Stryker restore all
