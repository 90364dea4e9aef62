/**
 * Workloads b and c: many pairs, both sides streaming at once, each sender with at most
 * `window` data frames not yet acknowledged by its partner.
 *
 * Acknowledgements ride on the partner's own data frames (a cumulative count in the header).
 * A side whose own window is full cannot send data, so once it owes `window / 2` frames it
 * sends a bare ack frame instead; without that, two full windows would wait on each other.
 * After `warmupMs`, data frames delivered during `durationMs` are counted and their one-way
 * latency (send to delivery, one clock) recorded; then sending stops and in-flight frames drain.
 */
import type { Endpoint } from '../clients.ts';
import { machineBusyMicros } from '../machine-load.ts';
import { cpuMicros, type Samples } from '../stats.ts';
import { ACK, DATA, makeFrame, readFrame } from './frames.ts';

export interface StreamOptions {
  frameBytes: number;
  window: number;
  warmupMs: number;
  durationMs: number;
  /** Longest wait for in-flight frames after sending stops. */
  drainMs: number;
  /** Cap on data frames per side, whatever the duration. */
  maxFramesPerSide: number;
  /**
   * Whether a side holds what it sends in reply to one read until that read's callback has run
   * (one write for a burst; config.ts, `clientWrites`).
   */
  batchWrites: boolean;
}

/** One measured slice of a streaming run on one relay. */
export interface StreamSlice {
  durationMs: number;
  delivered: number;
  acks: number;
  /** CPU time in the window, in microseconds: the relay's, the load generator's, the whole machine's. */
  serverMicros: number;
  clientMicros: number;
  machineMicros: number;
  /** The CPU time of the process read beside the relay (runStreamSlice's `besideCpuMicros`). */
  besideMicros?: number;
}

export interface StreamResult {
  pairs: number;
  window: number;
  /** Measured time, all slices together. */
  durationMs: number;
  /** Data frames delivered while measuring, and per second. */
  delivered: number;
  messagesPerSecond: number;
  /** One-way latency of the frames delivered while measuring. */
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Bare ack frames relayed while measuring, as a share of all frames. */
  ackShare: number;
  /** Relay CPU (user + system) per delivered data frame, and as a share of one core. */
  serverCpuMicrosPerMessage: number;
  serverCpuPercent: number;
  /** The load generator's own CPU, as a share of one core: near 100 % it is the bottleneck. */
  clientCpuPercent: number;
  /** CPU that other processes on the machine took meanwhile, as a share of one core. */
  otherCpuPercent: number;
}

interface Run {
  /** Tags this slice's frames, so that a late frame from an earlier slice is ignored. */
  readonly epoch: number;
  sending: boolean;
  measuring: boolean;
  delivered: number;
  acks: number;
  readonly samples: Samples;
}

class Side {
  sent = 0;
  received = 0;
  ackedByPartner = 0;
  ackSent = 0;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly run: Run,
    private readonly options: StreamOptions,
  ) {
    endpoint.onFrame = (frame) => this.receive(frame);
  }

  /** Sends data frames while the window has room; returns whether it sent any. */
  pump(): boolean {
    const { window, maxFramesPerSide, frameBytes } = this.options;
    let any = false;
    while (this.run.sending && this.sent - this.ackedByPartner < window && this.sent < maxFramesPerSide) {
      this.endpoint.send(makeFrame(frameBytes, DATA, this.received, this.run.epoch));
      this.ackSent = this.received;
      this.sent += 1;
      any = true;
    }
    return any;
  }

  /** Whether this side's sends are held until the current read's callback returns. */
  #holding = false;
  readonly #release = (): void => {
    this.#holding = false;
    this.endpoint.release();
  };

  /**
   * The load generator plays every client in one process. Writing each frame on its own, it
   * spent about 60 % of its time in the kernel's write, held a core, and set the pace of the
   * run for a relay that had time to spare. A client's replies to the frames of one read now go
   * out in one write, as the relay's own batch does (a microtask: after every frame of the read).
   */
  #holdWrites(): void {
    if (this.#holding || !this.options.batchWrites) return;
    this.#holding = true;
    this.endpoint.hold();
    queueMicrotask(this.#release);
  }

  receive(frame: Uint8Array): void {
    this.#holdWrites();
    const header = readFrame(frame);
    if (header.epoch !== this.run.epoch) return; // a straggler from an earlier slice
    if (header.ack > this.ackedByPartner) this.ackedByPartner = Math.min(header.ack, this.sent);
    if (header.kind === DATA) {
      this.received += 1;
      if (this.run.measuring) {
        this.run.delivered += 1;
        this.run.samples.add(performance.now() - header.sentAt);
      }
    } else if (this.run.measuring) {
      this.run.acks += 1;
    }
    const sent = this.pump();
    if (!sent && this.run.sending && this.received - this.ackSent >= this.options.window / 2) {
      this.endpoint.send(makeFrame(this.options.frameBytes, ACK, this.received, this.run.epoch));
      this.ackSent = this.received;
    }
  }

  detach(): void {
    this.endpoint.onFrame = () => undefined;
  }
}

let epoch = 0;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Streams on `pairs` for `warmupMs`, then measures for `durationMs`, adding latencies to
 * `samples`; then stops sending and waits (at most `drainMs`) for frames in flight. With
 * thousands of busy sockets, libuv may run the poll phase for a long while before timers:
 * windows then run long, so every rate divides by the time actually measured.
 */
export async function runStreamSlice(
  pairs: readonly [Endpoint, Endpoint][],
  options: StreamOptions,
  samples: Samples,
  serverCpuMicros: () => Promise<number>,
  /** Another process's CPU time to read over the same window (scale-out: Redis); undefined: unknown. */
  besideCpuMicros?: () => number | undefined,
): Promise<StreamSlice> {
  epoch = (epoch + 1) % 256;
  const run: Run = { epoch, sending: true, measuring: false, delivered: 0, acks: 0, samples };
  const sides = pairs.flatMap(([a, b]) => [new Side(a, run, options), new Side(b, run, options)]);
  try {
    for (const side of sides) side.pump();
    await sleep(options.warmupMs);

    const serverBefore = await serverCpuMicros();
    const besideBefore = besideCpuMicros?.();
    const clientBefore = process.cpuUsage();
    const machineBefore = machineBusyMicros();
    const startedAt = performance.now();
    run.measuring = true;
    await sleep(options.durationMs);
    run.measuring = false;
    const endedAt = performance.now();
    const machineAfter = machineBusyMicros();
    const clientAfter = process.cpuUsage();
    const besideAfter = besideCpuMicros?.();
    const serverAfter = await serverCpuMicros();
    run.sending = false;

    const drainUntil = performance.now() + options.drainMs;
    const inFlight = (): number => sides.reduce((sum, side) => sum + side.sent - side.received, 0);
    while (inFlight() > 0 && performance.now() < drainUntil) await sleep(20);

    return {
      durationMs: endedAt - startedAt,
      delivered: run.delivered,
      acks: run.acks,
      serverMicros: serverAfter - serverBefore,
      ...(besideBefore !== undefined && besideAfter !== undefined
        ? { besideMicros: besideAfter - besideBefore }
        : {}),
      clientMicros: cpuMicros(clientBefore, clientAfter),
      machineMicros: machineAfter - machineBefore,
    };
  } finally {
    run.sending = false;
    for (const side of sides) side.detach();
  }
}

/** Adds slices (of one relay) up into its result. */
export function summariseStream(
  slices: readonly StreamSlice[],
  samples: Samples,
  pairs: number,
  window: number,
): StreamResult {
  const total = (key: Exclude<keyof StreamSlice, 'besideMicros'>): number =>
    slices.reduce((sum, slice) => sum + slice[key], 0);
  const durationMs = total('durationMs');
  const delivered = total('delivered');
  const acks = total('acks');
  const percentOfCore = (micros: number): number => (100 * micros) / (durationMs * 1000);
  const [p50, p99] = samples.percentiles(50, 99);
  return {
    pairs,
    window,
    durationMs,
    delivered,
    messagesPerSecond: delivered / (durationMs / 1000),
    latencyP50Ms: p50 ?? Number.NaN,
    latencyP99Ms: p99 ?? Number.NaN,
    ackShare: acks / Math.max(1, acks + delivered),
    serverCpuMicrosPerMessage: total('serverMicros') / Math.max(1, delivered),
    serverCpuPercent: percentOfCore(total('serverMicros')),
    clientCpuPercent: percentOfCore(total('clientMicros')),
    otherCpuPercent: Math.max(
      0,
      percentOfCore(total('machineMicros') - total('serverMicros') - total('clientMicros')),
    ),
  };
}
