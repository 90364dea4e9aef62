/**
 * Two headless clients chatting, and what became of their messages: the checks shared by the
 * fault tests and `npm run soak`. A message is `<sender> #<n>`, numbered from 1.
 */
import type { NodeClient } from '@duet/cli/node-client';
import { until } from './until.ts';

/** Waits until `predicate` holds (support/until.ts); the error says where each client is. */
export function waitFor(
  clients: NodeClient[],
  predicate: () => boolean,
  ms: number,
  what: string,
): Promise<void> {
  const state = () =>
    clients
      .map((c) => `${c.conversation.status}: received ${c.received.length}, delivered ${delivered(c)}`)
      .join('; ');
  return until(predicate, what, ms, state);
}

export const delivered = (client: NodeClient): number =>
  client.events.filter((event) => event.type === 'delivery' && event.status === 'delivered').length;

export const bothReady = (a: NodeClient, b: NodeClient) => () =>
  a.conversation.status === 'ready' && b.conversation.status === 'ready';

export const expectedFrom = (sender: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `${sender} #${i + 1}`);

/** What one side sent and what its partner showed of it. */
export interface Tally {
  sent: number;
  /** Sent and never shown. */
  lost: number;
  /** Shown more than once (extra copies). */
  doubled: number;
  /** Shown after a later message of the same sender. */
  outOfOrder: number;
  /** Confirmed `delivered` to the sender. */
  delivered: number;
  /** Marked `failed` to the sender. */
  failed: number;
  /** Fatal problems the sender's conversation reported (`room-full`, `connection-lost`, ...). */
  fatal: string[];
}

export function tally(sender: string, from: NodeClient, to: NodeClient, sent: number): Tally {
  const prefix = `${sender} #`;
  const shown = to.received
    .filter((text) => text.startsWith(prefix))
    .map((text) => Number(text.slice(prefix.length)));
  const counts = new Map<number, number>();
  let outOfOrder = 0;
  let highest = 0;
  for (const n of shown) {
    counts.set(n, (counts.get(n) ?? 0) + 1);
    if (n < highest) outOfOrder += 1;
    highest = Math.max(highest, n);
  }
  let lost = 0;
  let doubled = 0;
  for (let n = 1; n <= sent; n++) {
    const times = counts.get(n) ?? 0;
    if (times === 0) lost += 1;
    else doubled += times - 1;
  }
  return {
    sent,
    lost,
    doubled,
    outOfOrder,
    delivered: delivered(from),
    failed: from.events.filter((event) => event.type === 'delivery' && event.status === 'failed').length,
    fatal: from.events.flatMap((event) => (event.type === 'problem' && event.fatal ? [event.code] : [])),
  };
}

/** The figures that must hold: everything shown once, in order, confirmed, and nobody failed. */
export const PERFECT = (sent: number): Tally => ({
  sent,
  lost: 0,
  doubled: 0,
  outOfOrder: 0,
  delivered: sent,
  failed: 0,
  fatal: [],
});
