/**
 * The only code in the app that touches a WebSocket. It speaks the relay's control protocol
 * (packages/core/src/protocol/control.ts) and hands binary frames through untouched.
 */
import {
  encodeControl,
  parseServerMessage,
  type ClientMessage,
  type ServerMessage,
} from '@duet/core/protocol/control';

export interface TransportHandlers {
  onOpen(): void;
  onControl(message: ServerMessage): void;
  onFrame(frame: Uint8Array): void;
  /** The socket closed; `intentional` when we closed it ourselves. */
  onClose(intentional: boolean): void;
  /** The relay sent something that is not our protocol. */
  onProtocolError(error: unknown): void;
}

export interface Transport {
  sendControl(message: ClientMessage): void;
  sendFrame(frame: Uint8Array): void;
  close(): void;
}

/** ws: or wss: on the page's own host: the relay serves the app and the socket. */
export function relayUrl(location: Location): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}

export function connect(url: string, handlers: TransportHandlers): Transport {
  const socket = new WebSocket(url);
  socket.binaryType = 'arraybuffer';
  let closedByUs = false;

  socket.addEventListener('open', () => handlers.onOpen());
  socket.addEventListener('close', () => handlers.onClose(closedByUs));
  socket.addEventListener('message', (event: MessageEvent<string | ArrayBuffer>) => {
    if (typeof event.data === 'string') {
      let message: ServerMessage;
      try {
        message = parseServerMessage(event.data);
      } catch (error) {
        handlers.onProtocolError(error);
        return;
      }
      handlers.onControl(message);
    } else {
      handlers.onFrame(new Uint8Array(event.data));
    }
  });

  return {
    sendControl(message) {
      if (socket.readyState === WebSocket.OPEN) socket.send(encodeControl(message));
    },
    sendFrame(frame) {
      if (socket.readyState === WebSocket.OPEN) socket.send(frame);
    },
    close() {
      closedByUs = true;
      socket.close(1000, 'leave');
    },
  };
}
