/**
 * Test helper: two `modern` channels wired together in memory through a fake relay that grants
 * handshake attempts to both seats at once (attempt counts up, nonce random) and delivers frames
 * in order, one event at a time, as the app's queue would.
 */
import { randomBytes } from '../src/bytes.ts';
import type { ChannelEffect, SecureChannel } from '../src/session/channel.ts';
import { createModernChannel } from '../src/session/modern-channel.ts';

export type Side = 'a' | 'b';

type Event = { kind: 'frame'; frame: Uint8Array } | { kind: 'grant'; attempt: number; nonce: Uint8Array };

export const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

export class MemoryRelay {
  /** Every effect each side produced, in order. */
  readonly effects: Record<Side, ChannelEffect[]> = { a: [], b: [] };
  /** Every frame each side transmitted, in order. */
  readonly sent: Record<Side, Uint8Array[]> = { a: [], b: [] };
  /** Attempts granted so far (the last attempt number). */
  attempt = 0;
  /** Rewrites (or, returning undefined, drops) a frame in flight. */
  tap: ((from: Side, frame: Uint8Array) => Uint8Array | undefined) | undefined;
  private readonly queue: { to: Side; event: Event }[] = [];

  constructor(
    readonly a: SecureChannel,
    readonly b: SecureChannel,
  ) {}

  /** Two fresh channels in one room: `a` sits in seat 0 (initiator), `b` in seat 1. */
  static pair(passA: string, passB = passA, room = 'test-room', roomB = room): MemoryRelay {
    return new MemoryRelay(
      createModernChannel({ passphrase: passA, room }),
      createModernChannel({ passphrase: passB, room: roomB }),
    );
  }

  channel(side: Side): SecureChannel {
    return side === 'a' ? this.a : this.b;
  }

  /** The partner arrived: both sides start, then everything queued is delivered. */
  async start(): Promise<void> {
    this.record('a', await this.a.start('initiator'));
    this.record('b', await this.b.start('responder'));
    await this.run();
  }

  /** The relay grants a new attempt to both seats (queued, delivered by `run`). */
  grantBoth(nonce: Uint8Array = randomBytes(16)): number {
    this.attempt += 1;
    this.queue.push({ to: 'a', event: { kind: 'grant', attempt: this.attempt, nonce } });
    this.queue.push({ to: 'b', event: { kind: 'grant', attempt: this.attempt, nonce } });
    return this.attempt;
  }

  async send(side: Side, text: string): Promise<void> {
    this.record(side, await this.channel(side).send(text));
    await this.run();
  }

  async retry(side: Side, passphrase: string): Promise<void> {
    this.record(side, await this.channel(side).retry(passphrase));
    await this.run();
  }

  /** Delivers one raw frame to `to` right now, outside the queue; returns its effects. */
  async inject(to: Side, frame: Uint8Array): Promise<ChannelEffect[]> {
    const effects = await this.channel(to).receive(frame);
    this.record(to, effects);
    await this.run();
    return effects;
  }

  /** Delivers queued events in order until nothing is left. */
  async run(): Promise<void> {
    for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
      const channel = this.channel(next.to);
      const effects =
        next.event.kind === 'grant'
          ? await channel.grant(next.event.attempt, next.event.nonce)
          : await channel.receive(next.event.frame);
      this.record(next.to, effects);
    }
  }

  /** Effects of one type seen by `side`. */
  of<T extends ChannelEffect['type']>(side: Side, type: T): Extract<ChannelEffect, { type: T }>[] {
    return this.effects[side].filter((e): e is Extract<ChannelEffect, { type: T }> => e.type === type);
  }

  isReady(side: Side): boolean {
    const states = this.effects[side].filter((e) => e.type === 'ready' || e.type === 'failed');
    return states[states.length - 1]?.type === 'ready';
  }

  private record(side: Side, effects: ChannelEffect[]): void {
    for (const effect of effects) {
      this.effects[side].push(effect);
      if (effect.type === 'request-handshake') this.grantBoth();
      if (effect.type !== 'transmit') continue;
      this.sent[side].push(effect.frame);
      const frame = this.tap ? this.tap(side, effect.frame) : effect.frame;
      if (frame !== undefined) this.queue.push({ to: other(side), event: { kind: 'frame', frame } });
    }
  }
}

/** The frame of the single `transmit` effect in `effects`. */
export function frameOf(effects: ChannelEffect[]): Uint8Array {
  const frames = effects.filter((e) => e.type === 'transmit');
  const effect = frames[0];
  if (frames.length !== 1 || effect?.type !== 'transmit') throw new Error('expected one transmit effect');
  return effect.frame;
}

/** A copy of `frame` with bit `bit` flipped. */
export function flipBit(frame: Uint8Array, bit: number): Uint8Array {
  const out = frame.slice();
  out[bit >> 3] = (out[bit >> 3] ?? 0) ^ (1 << (bit & 7));
  return out;
}
