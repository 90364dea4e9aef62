/**
 * A headless Duet client for Node: the same Conversation as the browser app (packages/core),
 * over a `ws` socket. Used by the fault-injection tests and the benchmarks.
 */
import WebSocket from 'ws';
import type { SuiteId } from '@duet/core/protocol/control';
import {
  Conversation,
  type Connect,
  type ConversationEvent,
  type ConversationOptions,
} from '@duet/core/session/conversation';
import { createChannel } from '@duet/core/session/suites';

/** Opens one `ws` socket to the relay at `url` (ws://host:port/ws) per call. */
export function nodeConnect(url: string): Connect {
  return (handlers) => {
    const socket = new WebSocket(url);
    socket.binaryType = 'nodebuffer';
    socket.on('open', () => handlers.onOpen());
    socket.on('close', () => handlers.onClose());
    socket.on('error', () => undefined); // 'close' follows
    socket.on('message', (data, isBinary) => {
      const buffer = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      if (isBinary) handlers.onBinary(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength));
      else handlers.onText(buffer.toString('utf8'));
    });
    return {
      sendText: (text) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(text);
      },
      sendBinary: (bytes) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(bytes, { binary: true });
      },
      close: (code, reason) => socket.close(code, reason),
    };
  };
}

export const nodeTimers = {
  set: (callback: () => void, ms: number) => setTimeout(callback, ms),
  clear: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
};

export interface NodeClientOptions {
  url: string;
  room: string;
  passphrase: string;
  suite?: SuiteId;
  saltHex?: string;
  onEvent?: (event: ConversationEvent) => void;
  reconnectDelaysMs?: ConversationOptions['reconnectDelaysMs'];
  maxReconnectAttempts?: number;
}

/** A started conversation, plus what it has seen, for tests and tools. */
export interface NodeClient {
  conversation: Conversation;
  /** Texts shown from the partner, in order. */
  received: string[];
  events: ConversationEvent[];
}

export async function startNodeClient(options: NodeClientOptions): Promise<NodeClient> {
  const suite = options.suite ?? 'modern';
  const channel = await createChannel({
    suite,
    room: options.room,
    passphrase: options.passphrase,
    saltHex: options.saltHex ?? '',
  });
  const client: NodeClient = { conversation: undefined as unknown as Conversation, received: [], events: [] };
  client.conversation = new Conversation({
    room: options.room,
    suite,
    channel,
    connect: nodeConnect(options.url),
    timers: nodeTimers,
    ...(options.reconnectDelaysMs ? { reconnectDelaysMs: options.reconnectDelaysMs } : {}),
    ...(options.maxReconnectAttempts ? { maxReconnectAttempts: options.maxReconnectAttempts } : {}),
    onEvent: (event) => {
      client.events.push(event);
      if (event.type === 'incoming') client.received.push(event.text);
      options.onEvent?.(event);
    },
  });
  client.conversation.start();
  return client;
}
