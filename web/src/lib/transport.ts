/**
 * The only code in the app that touches a WebSocket's events: it gives the conversation
 * (packages/core) a `connect` that opens one browser WebSocket to the relay per call, the first
 * call taking over the socket the page opened as the join began (`openEarlySocket`), if it is
 * still open or opening.
 */
import type { Connect } from '@duet/core/session/conversation';

/** ws: or wss: on the page's own host: the relay serves the app and the socket. */
export function relayUrl(location: Location): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}

export function browserConnect(url: string, early?: WebSocket): Connect {
  let waiting = early;
  /** The early socket, once, unless it closed before the conversation got to it. */
  const takeEarly = (): WebSocket | undefined => {
    const socket = waiting;
    waiting = undefined;
    return socket && socket.readyState <= WebSocket.OPEN ? socket : undefined;
  };
  return (handlers) => {
    const socket = takeEarly() ?? new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    // Already open: its `open` event is gone. (The relay says nothing before the client's `join`,
    // so no message was missed either.) Told after `connect` returns, as the event would be.
    if (socket.readyState === WebSocket.OPEN) queueMicrotask(() => handlers.onOpen());
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
