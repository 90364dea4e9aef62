/**
 * Workload a: one pair, one frame in flight. A sends, B echoes the same bytes, A times the
 * round trip and sends the next. `run` plays a block of rounds; the caller interleaves blocks
 * across relays so that a busy machine slows every relay alike.
 */
import type { Endpoint } from '../clients.ts';
import type { Samples } from '../stats.ts';
import { DATA, makeFrame, readFrame } from './frames.ts';

export interface PingPongResult {
  rounds: number;
  /** Round-trip time (A → relay → B → relay → A); one-way is about half. */
  rttP50Ms: number;
  rttP99Ms: number;
  /** Frames relayed per second while a round was in flight (two per round trip). */
  messagesPerSecond: number;
}

export class PingPong {
  constructor(
    private readonly pair: [Endpoint, Endpoint],
    private readonly frameBytes: number,
  ) {}

  /**
   * Plays `rounds` round trips, recording each into `samples` (ms) if given; resolves with the
   * time they took, in ms. Rejects after `timeoutMs`.
   */
  run(rounds: number, samples: Samples | undefined, timeoutMs: number): Promise<number> {
    const [a, b] = this.pair;
    let done = 0;
    const startedAt = performance.now();
    return new Promise<number>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        a.onFrame = () => undefined;
        b.onFrame = () => undefined;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`ping-pong: ${done} of ${rounds} rounds in ${timeoutMs} ms`));
      }, timeoutMs);
      b.onFrame = (frame) => b.send(frame);
      a.onFrame = (frame) => {
        const now = performance.now();
        samples?.add(now - readFrame(frame).sentAt);
        done += 1;
        if (done < rounds) return a.send(makeFrame(this.frameBytes, DATA, 0));
        finish();
        resolve(now - startedAt);
      };
      a.send(makeFrame(this.frameBytes, DATA, 0));
    });
  }
}
