/**
 * The frames the load clients send. Every frame is `frameBytes` long (100 by default) and
 * starts with a small header; the rest is zeros. Relays never look inside.
 *
 *   offset 0  u8   kind: 1 data, 2 ack (carries only the acknowledgement)
 *   offset 1  u8   epoch: which streaming slice sent it (see stream.ts)
 *   offset 4  u32  data frames the sender has received from its partner so far (cumulative ack)
 *   offset 8  f64  performance.now() when sent (sender and receiver share the bench's clock)
 */
export const DATA = 1;
export const ACK = 2;
export const HEADER_BYTES = 16;

export function makeFrame(frameBytes: number, kind: number, ack: number, epoch = 0): Buffer {
  const frame = Buffer.alloc(Math.max(frameBytes, HEADER_BYTES));
  frame[0] = kind;
  frame[1] = epoch;
  frame.writeUInt32BE(ack >>> 0, 4);
  frame.writeDoubleBE(performance.now(), 8);
  return frame;
}

export interface FrameHeader {
  kind: number;
  epoch: number;
  ack: number;
  sentAt: number;
}

export function readFrame(frame: Uint8Array): FrameHeader {
  if (frame.length < HEADER_BYTES) throw new Error(`frame of ${frame.length} bytes is too short`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return {
    kind: view.getUint8(0),
    epoch: view.getUint8(1),
    ack: view.getUint32(4),
    sentAt: view.getFloat64(8),
  };
}
