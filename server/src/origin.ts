/**
 * The Origin check on WebSocket upgrades, against cross-site WebSocket hijacking: a page on
 * another site must not be able to open a socket to the relay in a visitor's name.
 */
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Allowed: no Origin header (not a browser, so no victim's ambient authority to abuse), an
 * origin in `allowed` (normalised origins, see config.ts), or, when `allowed` is empty, an
 * origin whose host (name and port) is the request's Host.
 */
export function isOriginAllowed(headers: IncomingHttpHeaders, allowed: readonly string[]): boolean {
  const origin = headers.origin;
  if (origin === undefined) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin); // `null` (sandboxed frames, file:) does not parse: refused
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  if (allowed.length > 0) return allowed.includes(parsed.origin);
  if (headers.host === undefined) return false;
  try {
    // Parsed with the origin's scheme, so that `host:443` and `host` compare equal under https.
    return new URL(`${parsed.protocol}//${headers.host}`).host === parsed.host;
  } catch {
    return false;
  }
}
