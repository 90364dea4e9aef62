/**
 * Who may open a WebSocket: an allowed Host, the right path, an allowed Origin, and room under
 * the connection limits. A refusal is an HTTP status, sent before any upgrade (docs/protocol.md, "Connecting").
 * Connections of other transports (the seed gateway's TCP) count against the same limits.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { clientAddressOf } from './client-address.ts';
import type { Limits } from './limits.ts';
import { isHostAllowed, type HostRule } from './host-check.ts';
import { isOriginAllowed } from './origin.ts';

export const RELAY_PATH = '/ws';

export interface Refusal {
  status: 403 | 404 | 421 | 429 | 503;
  reason: string;
}

/** An upgrade let through, with the client's address (for per-client limits), or refused. */
export type Admission = { admitted: true; address: string } | { admitted: false; refusal: Refusal };

const refuse = (status: Refusal['status'], reason: string): Admission => ({
  admitted: false,
  refusal: { status, reason },
});

type GateOptions = Pick<Limits, 'maxConnections' | 'maxConnectionsPerIp'> & {
  allowedOrigins: readonly string[];
  /** Proxies whose `X-Forwarded-For` is believed (client-address.ts); default none. */
  trustProxy?: readonly string[];
  /** The names `Host` must carry (host-check.ts); undefined: no check. */
  hostRules?: readonly HostRule[] | undefined;
};

export class ConnectionGate {
  /** TCP connections let through and still open, in all and per IP address. */
  #open = 0;
  readonly #perIp = new Map<string, number>();
  readonly #clientAddress: (request: IncomingMessage) => string;

  constructor(private readonly options: GateOptions) {
    this.#clientAddress = clientAddressOf(options.trustProxy ?? []);
  }

  /**
   * Checks an upgrade request; when it may go ahead, counts its connection until the socket
   * closes (whatever becomes of the upgrade) and returns the client's address (an IPv4 address
   * or an IPv6 /64, after `X-Forwarded-For` from a trusted proxy).
   */
  check(request: IncomingMessage, socket: Duplex): Admission {
    if (!isHostAllowed(request.headers.host, this.options.hostRules))
      return refuse(421, 'Misdirected Request');
    const path = new URL(request.url ?? '/', 'http://relay').pathname;
    if (path !== RELAY_PATH) return refuse(404, 'Not Found');
    if (!isOriginAllowed(request.headers, this.options.allowedOrigins)) return refuse(403, 'Forbidden');
    const address = this.#clientAddress(request);
    const refusal = this.admit(address, socket);
    return refusal ? { admitted: false, refusal } : { admitted: true, address };
  }

  /**
   * Counts a connection from `ip` (client-address.ts, `addressKey`) until `socket` closes, if
   * the connection limits allow one more (in all and from that address); otherwise returns the
   * refusal.
   */
  admit(ip: string, socket: Pick<Duplex, 'once'>): Refusal | undefined {
    if (this.#open >= this.options.maxConnections) return { status: 503, reason: 'Service Unavailable' };
    if ((this.#perIp.get(ip) ?? 0) >= this.options.maxConnectionsPerIp)
      return { status: 429, reason: 'Too Many Requests' };
    this.#open += 1;
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1);
    socket.once('close', () => {
      this.#open -= 1;
      const left = (this.#perIp.get(ip) ?? 1) - 1;
      if (left > 0) this.#perIp.set(ip, left);
      else this.#perIp.delete(ip);
    });
    return undefined;
  }
}
