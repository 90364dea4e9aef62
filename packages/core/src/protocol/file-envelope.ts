/**
 * File transfer envelopes: what travels inside the `modern` channel's binary payloads (`data`
 * frames, sealed and authenticated like messages). Pure encode/decode, nothing else.
 *
 * Every envelope starts with a version byte (1), a type byte and the transfer's 16-byte id (chosen
 * at random by the sender). Integers are big-endian. docs/delivery.md describes the protocol.
 *
 * | type | name   | body after version, type and id                                           |
 * |------|--------|----------------------------------------------------------------------------|
 * | 0x01 | offer  | size u64 ‖ chunk bytes u32 ‖ len u8 ‖ MIME type ‖ len u16 ‖ name (UTF-8)   |
 * | 0x02 | accept | from u32: send chunks from this index on                                   |
 * | 0x03 | chunk  | index u32 ‖ the chunk's bytes (to the end)                                 |
 * | 0x04 | ack    | up to u32: chunks 0 … upTo − 1 are stored                                  |
 * | 0x05 | end    | SHA-256 of the whole file (32)                                             |
 * | 0x06 | done   | (nothing): the receiver has every chunk and the digest matched             |
 * | 0x07 | cancel | reason u8                                                                  |
 *
 * Decoding anything malformed, unknown or out of range throws DuetError('bad-frame').
 */
import { concatBytes, utf8DecodeStrict, utf8Encode } from '../bytes.ts';
import { duetError } from '../errors.ts';

export const FILE_ENVELOPE_VERSION = 1;
export const TRANSFER_ID_BYTES = 16;
export const DIGEST_BYTES = 32;
/** Version, type, id. */
const HEADER_BYTES = 2 + TRANSFER_ID_BYTES;
/** Bytes a chunk envelope adds to its data: header and index. */
export const CHUNK_OVERHEAD_BYTES = HEADER_BYTES + 4;
/** A file name, in UTF-8 bytes (most file systems allow 255; some names are longer in UTF-8). */
export const MAX_NAME_BYTES = 1024;
export const MAX_MIME_BYTES = 127;
/** Chunk indexes are u32. */
export const MAX_CHUNKS = 0xffff_ffff;

/** Why a transfer was cancelled; both sides show it. */
export const CANCEL_REASONS = [
  /** One side's user cancelled. */
  'cancelled',
  /** The receiver's user declined the offer. */
  'declined',
  /** Larger than the receiver accepts. */
  'too-large',
  /** The whole-file SHA-256 did not match what arrived: nothing was kept. */
  'tampered',
  /** This side no longer knows the transfer (the page was reloaded, say). */
  'unknown',
  /** This side could not read or store the file, or the other broke the protocol. */
  'failed',
] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

export type FileEnvelope =
  | { type: 'offer'; id: Uint8Array; size: number; chunkBytes: number; mime: string; name: string }
  | { type: 'accept'; id: Uint8Array; from: number }
  | { type: 'chunk'; id: Uint8Array; index: number; bytes: Uint8Array }
  | { type: 'ack'; id: Uint8Array; upTo: number }
  | { type: 'end'; id: Uint8Array; sha256: Uint8Array }
  | { type: 'done'; id: Uint8Array }
  | { type: 'cancel'; id: Uint8Array; reason: CancelReason };

export type FileEnvelopeType = FileEnvelope['type'];

const TYPE_BYTES: Record<FileEnvelopeType, number> = {
  offer: 0x01,
  accept: 0x02,
  chunk: 0x03,
  ack: 0x04,
  end: 0x05,
  done: 0x06,
  cancel: 0x07,
};

/** A MIME type as the sender's platform reports it: printable ASCII, no spaces, or empty. */
const MIME = /^[\x21-\x7e]*$/;

/** The number of chunks a file of `size` bytes is cut into (0 for an empty file). */
export function chunkCount(size: number, chunkBytes: number): number {
  return Math.ceil(size / chunkBytes);
}

/**
 * Encodes one envelope as parts whose concatenation is `encodeFileEnvelope`'s bytes: a chunk's
 * bytes stay a part of their own, so that the channel copies them once, into the padded
 * plaintext (session/channel.ts, `Payload`). Throws as `encodeFileEnvelope` does.
 */
export function encodeFileEnvelopeParts(envelope: FileEnvelope): Uint8Array[] {
  if (envelope.type !== 'chunk') return [encodeFileEnvelope(envelope)];
  return [concatBytes(header(envelope.type, envelope.id), u32(envelope.index)), envelope.bytes];
}

/** Encodes one envelope; throws DuetError('bad-input') if a field is out of range. */
export function encodeFileEnvelope(envelope: FileEnvelope): Uint8Array {
  if (envelope.type === 'chunk') return concatBytes(...encodeFileEnvelopeParts(envelope));
  const head = header(envelope.type, envelope.id);
  switch (envelope.type) {
    case 'offer': {
      checkOffer(envelope, 'bad-input');
      const mime = utf8Encode(envelope.mime);
      const name = utf8Encode(envelope.name);
      return concatBytes(
        head,
        u64(envelope.size),
        u32(envelope.chunkBytes),
        Uint8Array.of(mime.length),
        mime,
        u16(name.length),
        name,
      );
    }
    case 'accept':
      return concatBytes(head, u32(envelope.from));
    case 'ack':
      return concatBytes(head, u32(envelope.upTo));
    case 'end':
      if (envelope.sha256.length !== DIGEST_BYTES) throw duetError('bad-input', 'sha256 must be 32 bytes');
      return concatBytes(head, envelope.sha256);
    case 'done':
      return head;
    case 'cancel':
      return concatBytes(head, Uint8Array.of(CANCEL_REASONS.indexOf(envelope.reason) + 1));
    default:
      return unreachable(envelope);
  }
}

/** Decodes one envelope; throws DuetError('bad-frame') for anything `encodeFileEnvelope` would not produce. */
export function decodeFileEnvelope(bytes: Uint8Array): FileEnvelope {
  if (bytes.length < HEADER_BYTES) throw duetError('bad-frame', 'file envelope too short');
  if (bytes[0] !== FILE_ENVELOPE_VERSION) throw duetError('bad-frame', 'unknown file envelope version');
  const type = typeOf(bytes[1] ?? 0);
  const id = bytes.slice(2, HEADER_BYTES);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const body = bytes.length - HEADER_BYTES;
  switch (type) {
    case 'offer': {
      if (body < 8 + 4 + 1 + 2) throw duetError('bad-frame', 'offer too short');
      const size = view.getBigUint64(HEADER_BYTES);
      if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw duetError('bad-frame', 'size out of range');
      const chunkBytes = view.getUint32(HEADER_BYTES + 8);
      const mimeLength = bytes[HEADER_BYTES + 12] ?? 0;
      const mimeAt = HEADER_BYTES + 13;
      if (bytes.length < mimeAt + mimeLength + 2) throw duetError('bad-frame', 'offer too short');
      const nameLength = view.getUint16(mimeAt + mimeLength);
      const nameAt = mimeAt + mimeLength + 2;
      if (bytes.length !== nameAt + nameLength) throw duetError('bad-frame', 'offer length does not match');
      let mime: string;
      let name: string;
      try {
        mime = utf8DecodeStrict(bytes.subarray(mimeAt, mimeAt + mimeLength));
        name = utf8DecodeStrict(bytes.subarray(nameAt));
      } catch {
        throw duetError('bad-frame', 'offer text is not UTF-8');
      }
      const offer = { type, id, size: Number(size), chunkBytes, mime, name } as const;
      checkOffer(offer, 'bad-frame');
      return offer;
    }
    case 'accept':
      expectBody(body, 4);
      return { type, id, from: view.getUint32(HEADER_BYTES) };
    case 'chunk':
      if (body < 4) throw duetError('bad-frame', 'chunk too short');
      // A view, not a copy: the payload is this envelope's own (the channel hands out fresh bytes).
      return { type, id, index: view.getUint32(HEADER_BYTES), bytes: bytes.subarray(HEADER_BYTES + 4) };
    case 'ack':
      expectBody(body, 4);
      return { type, id, upTo: view.getUint32(HEADER_BYTES) };
    case 'end':
      expectBody(body, DIGEST_BYTES);
      return { type, id, sha256: bytes.slice(HEADER_BYTES) };
    case 'done':
      expectBody(body, 0);
      return { type, id };
    case 'cancel': {
      expectBody(body, 1);
      const reason = CANCEL_REASONS[(bytes[HEADER_BYTES] ?? 0) - 1];
      if (reason === undefined) throw duetError('bad-frame', 'unknown cancel reason');
      return { type, id, reason };
    }
    default:
      return unreachable(type);
  }
}

function checkOffer(
  offer: { size: number; chunkBytes: number; mime: string; name: string },
  code: 'bad-input' | 'bad-frame',
): void {
  if (!Number.isSafeInteger(offer.size) || offer.size < 0) throw duetError(code, 'size out of range');
  if (!Number.isInteger(offer.chunkBytes) || offer.chunkBytes < 1 || offer.chunkBytes > 0xffff_ffff)
    throw duetError(code, 'chunk size out of range');
  if (chunkCount(offer.size, offer.chunkBytes) > MAX_CHUNKS) throw duetError(code, 'too many chunks');
  if (!MIME.test(offer.mime) || offer.mime.length > MAX_MIME_BYTES) throw duetError(code, 'bad MIME type');
  if (/\p{Cs}/u.test(offer.name) || utf8Encode(offer.name).length > MAX_NAME_BYTES)
    throw duetError(code, 'bad file name');
}

function header(type: FileEnvelopeType, id: Uint8Array): Uint8Array {
  if (!(id instanceof Uint8Array) || id.length !== TRANSFER_ID_BYTES)
    throw duetError('bad-input', `transfer id must be ${TRANSFER_ID_BYTES} bytes`);
  return concatBytes(Uint8Array.of(FILE_ENVELOPE_VERSION, TYPE_BYTES[type]), id);
}

function typeOf(byte: number): FileEnvelopeType {
  for (const [name, value] of Object.entries(TYPE_BYTES)) {
    if (value === byte) return name as FileEnvelopeType;
  }
  throw duetError('bad-frame', 'unknown file envelope type');
}

function expectBody(actual: number, expected: number): void {
  if (actual !== expected) throw duetError('bad-frame', 'file envelope length does not match its type');
}

function u16(value: number): Uint8Array {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, value);
  return out;
}

function u32(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff)
    throw duetError('bad-input', 'u32 field out of range');
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

function u64(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

function unreachable(value: never): never {
  throw duetError('bad-frame', `unhandled file envelope ${String(value)}`);
}
