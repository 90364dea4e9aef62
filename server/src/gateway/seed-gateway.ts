/**
 * The seed gateway, off by default: a TCP port where the original design's Python clients
 * (seed/python/client.py, alice.py, bob.py) take seats in one Duet `des` room, beside browsers
 * or each other. Turned on with SEED_GATEWAY=127.0.0.1:12345 (the original's address).
 *
 * Each connection is admitted against the relay's connection limits, then handed to the relay
 * as a peer like a WebSocket one (seed-link.ts): the same rate limit, frame size, seats and
 * routing. docs/protocol.md ("The seed gateway") says what the original client sees.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { addressKey } from '../client-address.ts';
import type { Relay } from '../relay.ts';
import { SeedLink, type SeedLinkObserver } from './seed-link.ts';

/** The salt the original's alice.py and bob.py use: a browser joining their room needs it. */
export const SEED_SALT_HEX = '123456789abcdefa1122334455667788';

export interface GatewayAddress {
  host: string;
  port: number;
}

const ADDRESS = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/;

/** Reads `host:port` or `[ipv6]:port`; returns undefined for anything else. */
export function parseGatewayAddress(value: string): GatewayAddress | undefined {
  const match = ADDRESS.exec(value.trim());
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (host === undefined || !Number.isInteger(port) || port > 65535) return undefined;
  return { host, port };
}

/** What the gateway reports, for /metrics and logs: counts and codes only. */
export interface GatewayObserver extends SeedLinkObserver {
  /** A TCP connection was accepted, or refused by the connection limits. */
  connection(outcome: 'accepted' | 'refused'): void;
}

export interface SeedGatewayOptions {
  address: GatewayAddress;
  /** The one `des` room every gateway connection sits in. */
  room: string;
  maxFrameBytes: number;
  closeGraceMs: number;
  /** Keep-alive probes start after this long idle, so that a vanished client is noticed. */
  heartbeatMs: number;
  observer: GatewayObserver;
}

export interface SeedGateway {
  /** Where it listens (the port actually bound). */
  host: string;
  port: number;
  room: string;
  /** Open gateway connections. */
  connections(): number;
  /** Stops accepting; open connections are closed by the relay's own close. */
  close(): Promise<void>;
}

export async function startSeedGateway(relay: Relay, options: SeedGatewayOptions): Promise<SeedGateway> {
  const open = new Set<Socket>();
  const server: Server = createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    // Counted as WebSocket clients are (an IPv6 client by its /64); raw TCP has no proxy header.
    const address = addressKey(socket.remoteAddress ?? 'unknown');
    const refusal = relay.admit(address, socket);
    if (refusal) {
      options.observer.connection('refused');
      socket.destroy(); // the original has no way to read a reason
      return;
    }
    options.observer.connection('accepted');
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.setKeepAlive(true, options.heartbeatMs);
    new SeedLink({
      socket,
      room: options.room,
      maxFrameBytes: options.maxFrameBytes,
      closeGraceMs: options.closeGraceMs,
      observer: options.observer,
    }).start((link) => relay.attach(link, address));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.address.port, options.address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: options.address.host,
    port,
    room: options.room,
    connections: () => open.size,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
