/**
 * The Origin check on WebSocket upgrades, against cross-site WebSocket hijacking: a page on
 * another site must not be able to open a socket to the relay in a visitor's name.
 */
import type { IncomingMessage } from 'node:http';

/**
 * Allowed: no Origin header (not a browser, so no victim's ambient authority to abuse), an
 * origin in `allowed`, or, when `allowed` is empty, an origin whose host is the request's Host.
 */
export function isOriginAllowed(request: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (allowed.length > 0) return allowed.includes(parsed.origin);
  return parsed.host === request.headers.host;
}
