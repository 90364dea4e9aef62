/**
 * A headless Duet client for Node: the same Conversation as the browser app (packages/core),
 * over a `ws` socket. The terminal client runs on it, and so do the relay's fault-injection
 * tests and the benchmarks.
 */
import WebSocket from 'ws';
import type { SuiteId } from '@duet/core/protocol/control';
import {
  Conversation,
  type Connect,
  type ConversationEvent,
  type ConversationOptions,
} from '@duet/core/session/conversation';
import { attachFileTransfers, type FileTransfers, type FileView } from '@duet/core/session/file-transfer';
import { createChannel } from '@duet/core/session/suites';
import { nodeFrameCrypto } from './node-frame-crypto.ts';
import { nodeX25519 } from './node-x25519.ts';
import { diskSink, nodeSha256 } from './node-files.ts';

/** Opens one `ws` socket to the relay at `url` (ws://host:port/ws) per call. */
export function nodeConnect(url: string, sockets?: Set<WebSocket>): Connect {
  return (handlers) => {
    const socket = new WebSocket(url);
    sockets?.add(socket);
    socket.on('close', () => sockets?.delete(socket));
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
      get bufferedAmount() {
        return socket.bufferedAmount;
      },
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
  /** Receive files into this folder (and send files); without it, files are not handled. */
  files?: {
    dir: string;
    /**
     * Which offers are accepted without asking: `all` (scripts, tests), `none` (the user accepts
     * each), or `images` (the app's rule: small raster images; the default).
     */
    accept?: 'all' | 'none' | 'images';
    maxFileBytes?: number;
    onChange?: (view: FileView<string>) => void;
  };
}

/** A started conversation, plus what it has seen, for tests and tools. */
export interface NodeClient {
  conversation: Conversation;
  /** With the `files` option: the transfers, and their latest views by id. */
  files?: FileTransfers<string>;
  fileViews: Map<string, FileView<string>>;
  /** Texts shown from the partner, in order. */
  received: string[];
  events: ConversationEvent[];
  /** Resolves once every socket is closed (after `leave`, the closing handshake), or after `graceMs`. */
  closed(graceMs?: number): Promise<void>;
}

export async function startNodeClient(options: NodeClientOptions): Promise<NodeClient> {
  const suite = options.suite ?? 'modern';
  const channel = await createChannel({
    suite,
    room: options.room,
    passphrase: options.passphrase,
    saltHex: options.saltHex ?? '',
    frames: nodeFrameCrypto,
    x25519: nodeX25519(),
  });
  const sockets = new Set<WebSocket>();
  const client: NodeClient = {
    conversation: undefined as unknown as Conversation,
    received: [],
    events: [],
    closed: (graceMs = 2_000) => allClosed(sockets, graceMs),
    fileViews: new Map(),
  };
  client.conversation = new Conversation({
    room: options.room,
    suite,
    channel,
    connect: nodeConnect(options.url, sockets),
    timers: nodeTimers,
    ...(options.reconnectDelaysMs ? { reconnectDelaysMs: options.reconnectDelaysMs } : {}),
    ...(options.maxReconnectAttempts ? { maxReconnectAttempts: options.maxReconnectAttempts } : {}),
    onEvent: (event) => {
      client.events.push(event);
      if (event.type === 'incoming') client.received.push(event.text);
      options.onEvent?.(event);
    },
  });
  if (options.files) {
    const { dir, accept = 'images', maxFileBytes, onChange } = options.files;
    client.files = attachFileTransfers<string>(client.conversation, {
      timers: nodeTimers,
      openSink: (meta) => diskSink(dir, meta),
      hash: nodeSha256,
      ...(maxFileBytes ? { maxFileBytes } : {}),
      ...(accept === 'images' ? {} : { autoAccept: () => accept === 'all' }),
      onChange: (view) => {
        client.fileViews.set(view.id, view);
        onChange?.(view);
      },
    });
  }
  client.conversation.start();
  return client;
}

function allClosed(sockets: Set<WebSocket>, graceMs: number): Promise<void> {
  const closing = [...sockets].map(
    (socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
  );
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, graceMs);
  });
  return Promise.race([Promise.all(closing).then(() => undefined), grace]).finally(() => clearTimeout(timer));
}
