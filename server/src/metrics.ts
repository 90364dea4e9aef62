/**
 * Prometheus metrics at GET /metrics (prom-client), one registry per server so that tests can
 * run several. Counts and codes only: nothing a client sent.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { GatewayObserver } from './gateway/seed-gateway.ts';
import type { RelayObserver } from './observer.ts';
import type { RelayStats } from './relay.ts';

export interface Metrics {
  registry: Registry;
  observer: RelayObserver;
  /** The seed gateway's counts (only moves when SEED_GATEWAY is set). */
  gateway: GatewayObserver;
}

/** `gatewayConnections` reads the open seed gateway connections at scrape time. */
export function createMetrics(stats: () => RelayStats, gatewayConnections: () => number = () => 0): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'duet_' });
  new Gauge({
    name: 'duet_connections',
    help: 'Open WebSocket connections.',
    registers: [registry],
    collect() {
      this.set(stats().connections);
    },
  });
  new Gauge({
    name: 'duet_rooms',
    help: 'Rooms with a seat taken or held.',
    registers: [registry],
    collect() {
      this.set(stats().rooms);
    },
  });
  // Counted in plain numbers on the hot path (a counter's inc() costs about a microsecond a
  // frame), handed to the counters when they are scraped.
  const relayed = { frames: 0, bytes: 0 };
  new Counter({
    name: 'duet_frames_relayed_total',
    help: 'Binary frames relayed.',
    registers: [registry],
    collect() {
      this.inc(relayed.frames);
      relayed.frames = 0;
    },
  });
  new Counter({
    name: 'duet_bytes_relayed_total',
    help: 'Bytes of binary frames relayed.',
    registers: [registry],
    collect() {
      this.inc(relayed.bytes);
      relayed.bytes = 0;
    },
  });
  const errors = new Counter({
    name: 'duet_errors_total',
    help: 'Error messages sent to clients, by code.',
    labelNames: ['code'],
    registers: [registry],
  });
  const refused = new Counter({
    name: 'duet_upgrades_refused_total',
    help: 'WebSocket upgrades refused, by HTTP status.',
    labelNames: ['status'],
    registers: [registry],
  });
  const seats = new Counter({
    name: 'duet_seat_events_total',
    help: 'Seats joined, left, held after a drop, resumed, and expired.',
    labelNames: ['event'],
    registers: [registry],
  });
  const handshakes = new Counter({
    name: 'duet_handshake_attempts_total',
    help: 'Handshake attempts asked for, by outcome.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const throttled = new Counter({
    name: 'duet_throttled_total',
    help: 'Times a connection over its byte rate was paused (BYTES_PER_SECOND).',
    registers: [registry],
  });
  const dropped = new Counter({
    name: 'duet_connections_dropped_total',
    help: 'Connections the relay ended, by close code: 1013 slow reader, 1011 internal error, 1006 no pong.',
    labelNames: ['code'],
    registers: [registry],
  });
  const internal = new Counter({
    name: 'duet_internal_errors_total',
    help: 'Bugs caught while handling a connection.',
    registers: [registry],
  });
  new Gauge({
    name: 'duet_seed_gateway_connections',
    help: 'Open TCP connections on the seed gateway (also counted in duet_connections).',
    registers: [registry],
    collect() {
      this.set(gatewayConnections());
    },
  });
  const gatewayAccepted = new Counter({
    name: 'duet_seed_gateway_connections_total',
    help: 'TCP connections to the seed gateway, accepted or refused by the connection limits.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const gatewaySeatRefused = new Counter({
    name: 'duet_seed_gateway_seats_refused_total',
    help: 'Seed gateway connections closed because the room refused a seat, by code.',
    labelNames: ['code'],
    registers: [registry],
  });
  const gatewayDropped = new Counter({
    name: 'duet_seed_gateway_frames_dropped_total',
    help: 'Frames from seed gateway clients dropped while too many waited for a partner.',
    registers: [registry],
  });
  return {
    registry,
    observer: {
      relayed(size) {
        relayed.frames += 1;
        relayed.bytes += size;
      },
      error: (code) => errors.inc({ code }),
      refused: (status) => refused.inc({ status: String(status) }),
      seat: (event) => seats.inc({ event }),
      handshake: (granted) => handshakes.inc({ outcome: granted ? 'granted' : 'rate-limited' }),
      internalError: () => internal.inc(),
      throttled: () => throttled.inc(),
      dropped: (code) => dropped.inc({ code: String(code) }),
    },
    gateway: {
      connection: (outcome) => gatewayAccepted.inc({ outcome }),
      refused: (code) => gatewaySeatRefused.inc({ code }),
      dropped: () => gatewayDropped.inc(),
    },
  };
}
