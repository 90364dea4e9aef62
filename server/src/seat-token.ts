/** Seat tokens and seat ids: 16 random bytes as 32 hex digits (docs/protocol.md, "Reconnecting"). */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const newToken = (): string => randomBytes(16).toString('hex');

/** Both are seat tokens (32 hex digits), so the buffers have the same length. */
export const tokensEqual = (a: string, b: string): boolean =>
  timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
