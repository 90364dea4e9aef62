/**
 * A WebSocket client that never reads: a raw TCP socket that upgrades, then stops reading, so
 * everything the relay sends it piles up in the kernel's buffers and then in the relay's own.
 * It writes frames as fast as the relay takes them (waiting for 'drain', so that its own
 * memory stays flat), and at the end reads what the relay sent to find how it was closed.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/** A client frame (masked, RFC 6455 §5.2) with a payload under 126 bytes. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]);
}

export const textFrame = (text: string): Buffer => clientFrame(0x1, Buffer.from(text));
export const EMPTY_BINARY_FRAME = clientFrame(0x2, Buffer.alloc(0));

export interface NeverReader {
  /** Writes `frame` `count` times, in chunks, as fast as the relay reads; stops early if it closes. */
  flood(frame: Buffer, count: number): Promise<number>;
  /** Writes raw bytes. */
  write(bytes: Buffer): void;
  /** Resolves when the relay has closed or cut the TCP connection. */
  ended: Promise<void>;
  /** Reads everything the relay sent and returns its close code, if a close frame was among it. */
  closeCode(): Promise<number | undefined>;
  destroy(): void;
}

export async function neverReader(port: number): Promise<NeverReader> {
  const socket: Socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let received = Buffer.alloc(0);
  while (!received.includes('\r\n\r\n')) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    received = Buffer.concat([received, chunk]);
  }
  if (!received.toString('latin1').startsWith('HTTP/1.1 101')) throw new Error('upgrade refused');
  socket.pause(); // from here on it never reads
  let closed = false;
  const ended = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      resolve();
    }),
  );

  return {
    async flood(frame, count) {
      const perChunk = Math.max(1, Math.floor((64 * 1024) / frame.length));
      const chunk = Buffer.concat(Array.from({ length: perChunk }, () => frame));
      let written = 0;
      while (written < count && !closed) {
        const n = Math.min(perChunk, count - written);
        const ok = socket.write(n === perChunk ? chunk : chunk.subarray(0, n * frame.length));
        written += n;
        if (!ok) await Promise.race([once(socket, 'drain'), ended]);
      }
      return written;
    },
    write: (bytes) => {
      if (!closed) socket.write(bytes);
    },
    ended,
    async closeCode() {
      const rest: Buffer[] = [received.subarray(received.indexOf('\r\n\r\n') + 4)];
      socket.on('data', (chunk: Buffer) => rest.push(chunk));
      socket.resume();
      await ended;
      return findClose(Buffer.concat(rest));
    },
    destroy: () => socket.destroy(),
  };
}

/** Walks the relay's frames (unmasked) and returns the close frame's code, if any. */
function findClose(bytes: Buffer): number | undefined {
  let at = 0;
  while (at + 2 <= bytes.length) {
    const opcode = bytes[at]! & 0x0f;
    let length = bytes[at + 1]! & 0x7f;
    let header = 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(at + 2));
      header = 10;
    }
    if (at + header + length > bytes.length) return undefined;
    if (opcode === 0x8) return length >= 2 ? bytes.readUInt16BE(at + header) : 1005;
    at += header + length;
  }
  return undefined;
}
