/**
 * The socket to the relay, opened the moment a join begins: its set-up (on a phone, a TCP and a
 * TLS handshake, then the upgrade: several round trips) runs while the page draws the
 * conversation view, loads the conversation's code and fetches the relay's settings, instead of
 * after them. The conversation takes it over for its first connection (transport.ts); nothing is
 * sent on it before then. It lives in the first screen's code because that code opens it.
 */
export function openEarlySocket(url: string): WebSocket {
  return new WebSocket(url); // transport.ts sets what it needs (its binaryType) as it takes it
}
