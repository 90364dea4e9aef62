/**
 * Envelopes between relay nodes over Redis pub/sub: each node subscribes to `duet:node:<id>`
 * and publishes to the channel of the node that holds the target connection. Bytes in, bytes
 * out (messageBuffer): payloads are never decoded as text. Pub/sub is fire-and-forget: an
 * envelope for a node that is gone is lost, like a frame for a connection that just dropped.
 *
 * Envelopes for one node are batched within a turn of the event loop: one `PUBLISH` per
 * destination node per turn (or per BATCH_MAX_BYTES), carrying them all in order. A PUBLISH per
 * frame cost more relay CPU than the frame itself (docs/benchmarks.md, scale-out).
 */
import type { Redis } from 'ioredis';
import { decodeEnvelopes, encodeEnvelopes, type Bus, type Envelope } from '../envelope.ts';

export const channelOf = (node: string): string => `duet:node:${node}`;

/** A batch this large is sent at once instead of waiting for the turn's end. */
export const BATCH_MAX_BYTES = 256 * 1024;

/** What the bus needs of ioredis's publishing connection. */
export type Publisher = Pick<Redis, 'publish'>;

interface Pending {
  envelopes: Envelope[];
  bytes: number;
}

/**
 * `publisher` sends commands; `subscriber` is given over to pub/sub (Redis allows nothing else
 * on a subscribed connection).
 */
export async function redisBus(node: string, publisher: Publisher, subscriber: Redis): Promise<Bus> {
  const handlers: ((envelope: Envelope) => void)[] = [];
  subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
    for (const envelope of decodeEnvelopes(message)) {
      for (const handler of handlers) handler(envelope);
    }
  });
  await subscriber.subscribe(channelOf(node));
  const outbox = batchedPublisher(publisher);
  return {
    node,
    publish: outbox.publish,
    onEnvelope(handler) {
      handlers.push(handler);
    },
    async close() {
      outbox.flush();
      await subscriber.unsubscribe();
    },
  };
}

/** Collects envelopes per destination node and publishes each node's as one batch per turn. */
export function batchedPublisher(publisher: Publisher): {
  publish(to: string, envelope: Envelope): void;
  flush(): void;
} {
  let pending = new Map<string, Pending>();
  let scheduled = false;

  const send = (to: string, batch: Pending): void => {
    void publisher.publish(channelOf(to), encodeEnvelopes(batch.envelopes)).catch(() => undefined);
  };

  const flush = (): void => {
    scheduled = false;
    const batches = pending;
    pending = new Map();
    for (const [to, batch] of batches) send(to, batch);
  };

  return {
    publish(to, envelope) {
      let batch = pending.get(to);
      if (!batch) {
        batch = { envelopes: [], bytes: 0 };
        pending.set(to, batch);
      }
      batch.envelopes.push(envelope);
      batch.bytes += envelope.kind === 'binary' ? envelope.data.length : 64;
      if (batch.bytes >= BATCH_MAX_BYTES) {
        pending.delete(to);
        send(to, batch);
      }
      if (!scheduled && pending.size > 0) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}
