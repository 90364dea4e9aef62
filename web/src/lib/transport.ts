/**
 * The only code in the app that touches a WebSocket: it gives the conversation (packages/core)
 * a `connect` that opens one browser WebSocket to the relay per call.
 */
import type { Connect } from '@duet/core/session/conversation';

/** ws: or wss: on the page's own host: the relay serves the app and the socket. */
export function relayUrl(location: Location): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}

export function browserConnect(url: string): Connect {
  return (handlers) => {
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('open', () => handlers.onOpen());
    socket.addEventListener('close', () => handlers.onClose());
    socket.addEventListener('message', (event: MessageEvent<string | ArrayBuffer>) => {
      if (typeof event.data === 'string') handlers.onText(event.data);
      else handlers.onBinary(new Uint8Array(event.data));
    });
    return {
      sendText: (text) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(text);
      },
      sendBinary: (bytes) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(bytes);
      },
      close: (code, reason) => socket.close(code, reason),
      // What the socket still has to send: a file waits while it is high (chat goes first).
      get bufferedAmount() {
        return socket.bufferedAmount;
      },
    };
  };
}
