/**
 * Envelopes between relay nodes over Redis pub/sub: each node subscribes to `duet:node:<id>`
 * and publishes to the channel of the node that holds the target connection. Bytes in, bytes
 * out (messageBuffer): payloads are never decoded as text. Pub/sub is fire-and-forget: an
 * envelope for a node that is gone is lost, like a frame for a connection that just dropped.
 */
import type { Redis } from 'ioredis';
import { decodeEnvelope, encodeEnvelope, type Bus, type Envelope } from '../envelope.ts';

export const channelOf = (node: string): string => `duet:node:${node}`;

/**
 * `publisher` sends commands; `subscriber` is given over to pub/sub (Redis allows nothing else
 * on a subscribed connection).
 */
export async function redisBus(node: string, publisher: Redis, subscriber: Redis): Promise<Bus> {
  const handlers: ((envelope: Envelope) => void)[] = [];
  subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
    const envelope = decodeEnvelope(message);
    for (const handler of handlers) handler(envelope);
  });
  await subscriber.subscribe(channelOf(node));
  return {
    node,
    publish(to, envelope) {
      void publisher.publish(channelOf(to), encodeEnvelope(envelope)).catch(() => undefined);
    },
    onEnvelope(handler) {
      handlers.push(handler);
    },
    async close() {
      await subscriber.unsubscribe();
    },
  };
}
