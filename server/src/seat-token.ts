/**
 * Seat tokens: 16 random bytes as 32 hex digits (docs/protocol.md, "Reconnecting"). The client
 * picks its own; the relay makes one only for a client that did not. Directories keep a token's
 * SHA-256, never the token, and compare hashes only: a timing difference in a comparison, or a
 * dump of the directory (Redis included), gives nothing that takes a seat.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const newToken = (): string => randomBytes(16).toString('hex');

/** The SHA-256 of a token's 16 bytes, as 64 hex digits. */
export const hashToken = (token: string): string =>
  createHash('sha256').update(Buffer.from(token, 'hex')).digest('hex');

/** Compares two token hashes (64 hex digits each) in constant time. */
export const hashesEqual = (a: string, b: string): boolean => {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
};
