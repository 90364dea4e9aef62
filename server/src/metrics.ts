/**
 * Prometheus metrics at GET /metrics (prom-client), one registry per server so that tests can
 * run several. Counts and codes only: nothing a client sent.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { RelayObserver } from './observer.ts';
import type { RelayStats } from './relay.ts';

export interface Metrics {
  registry: Registry;
  observer: RelayObserver;
}

export function createMetrics(stats: () => RelayStats): Metrics {
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
  const frames = new Counter({
    name: 'duet_frames_relayed_total',
    help: 'Binary frames relayed.',
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'duet_bytes_relayed_total',
    help: 'Bytes of binary frames relayed.',
    registers: [registry],
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
  const internal = new Counter({
    name: 'duet_internal_errors_total',
    help: 'Bugs caught while handling a connection.',
    registers: [registry],
  });
  return {
    registry,
    observer: {
      relayed(size) {
        frames.inc();
        bytes.inc(size);
      },
      error: (code) => errors.inc({ code }),
      refused: (status) => refused.inc({ status: String(status) }),
      seat: (event) => seats.inc({ event }),
      handshake: (granted) => handshakes.inc({ outcome: granted ? 'granted' : 'rate-limited' }),
      internalError: () => internal.inc(),
    },
  };
}
