/**
 * The only code in the app that touches WebRTC: a `ConnectDirect` (packages/core) over one
 * RTCPeerConnection carrying one reliable, ordered data channel. What goes over it, when it is
 * opened and when it is given up is decided in core (direct-dialer.ts, path-switch.ts); this
 * file only turns WebRTC's events into the link's, and paces what it sends.
 *
 * Pacing: the data channel's own buffer is kept under `CHANNEL_HIGH_BYTES` (Chrome closes a
 * channel that buffers about 16 MiB) and refilled when it drains below `CHANNEL_LOW_BYTES`
 * (`bufferedamountlow`); frames wait in order in a queue of our own meanwhile. That queue is
 * bounded by the path switch's window; past `MAX_QUEUED_BYTES` the link closes as `overflow`
 * and the conversation falls back to the relay. Frames larger than the relay allows are refused
 * both ways, so both paths carry the same frames.
 */
import type { ClientConfig } from '@duet/core/protocol/client-config';
import type { ConnectDirect, DirectCloseReason, DirectSignal } from '@duet/core/session/direct-dialer';

/** Refill the channel's buffer when it drains below this. */
export const CHANNEL_LOW_BYTES = 256 * 1024;
/** Hand the channel no more while this much is buffered in it. */
export const CHANNEL_HIGH_BYTES = 1024 * 1024;
/** Queued here beyond the channel's buffer: more means the link cannot keep up. */
export const MAX_QUEUED_BYTES = 32 * 1024 * 1024;

export type CreatePeerConnection = (configuration: RTCConfiguration) => RTCPeerConnection;

/** A `ConnectDirect` using the relay's `GET /config`: its ICE servers and its frame limit. */
export function browserConnectDirect(
  config: ClientConfig,
  createPeerConnection: CreatePeerConnection = (configuration) => new RTCPeerConnection(configuration),
): ConnectDirect {
  return ({ initiator }, handlers) => {
    const peer = createPeerConnection({ iceServers: config.iceServers });
    // Negotiated with a fixed id on both sides: no in-band announcement, one channel only.
    const channel = peer.createDataChannel('duet', { negotiated: true, id: 0, ordered: true });
    channel.binaryType = 'arraybuffer';
    channel.bufferedAmountLowThreshold = CHANNEL_LOW_BYTES;
    const queue: Uint8Array<ArrayBuffer>[] = [];
    let queuedBytes = 0;
    let closed = false;

    const shut = () => {
      closed = true;
      queue.length = 0;
      channel.close();
      peer.close();
    };
    const fail = (reason: DirectCloseReason) => {
      if (closed) return;
      shut();
      handlers.onClose(reason);
    };
    const pump = () => {
      while (queue.length > 0 && channel.readyState === 'open') {
        const frame = queue[0]!;
        if (channel.bufferedAmount > 0 && channel.bufferedAmount + frame.byteLength > CHANNEL_HIGH_BYTES)
          return;
        queue.shift();
        queuedBytes -= frame.byteLength;
        try {
          channel.send(frame);
        } catch {
          fail('failed');
          return;
        }
      }
    };
    const describe = (type: 'offer' | 'answer') => {
      const sdp = peer.localDescription?.sdp;
      if (!closed && sdp) handlers.onSignal({ type, sdp });
    };

    peer.addEventListener('icecandidate', (event) => {
      // A null candidate only says gathering is over; the partner needs no word of it.
      if (closed || !event.candidate) return;
      const { candidate, sdpMid, sdpMLineIndex } = event.candidate;
      handlers.onSignal({ type: 'candidate', candidate, sdpMid, sdpMLineIndex });
    });
    peer.addEventListener('connectionstatechange', () => {
      // `disconnected` may heal by itself; the path switch's heartbeat judges a stall.
      if (peer.connectionState === 'failed' || peer.connectionState === 'closed') fail('failed');
    });
    channel.addEventListener('open', () => {
      if (closed) return;
      handlers.onOpen();
      pump();
    });
    channel.addEventListener('bufferedamountlow', pump);
    channel.addEventListener('close', () => fail('closed'));
    channel.addEventListener('error', () => fail('failed'));
    channel.addEventListener('message', (event: MessageEvent<unknown>) => {
      if (closed) return;
      if (!(event.data instanceof ArrayBuffer)) return fail('failed');
      if (event.data.byteLength > config.maxFrameBytes) return fail('too-large');
      handlers.onFrame(new Uint8Array(event.data));
    });

    if (initiator) {
      peer
        .setLocalDescription()
        .then(() => describe('offer'))
        .catch(() => fail('failed'));
    }

    // Descriptions and candidates are applied one at a time, in the order they came.
    let applied = Promise.resolve();
    const apply = async (signal: DirectSignal) => {
      if (closed) return;
      switch (signal.type) {
        case 'offer':
          await peer.setRemoteDescription({ type: 'offer', sdp: signal.sdp });
          await peer.setLocalDescription();
          describe('answer');
          break;
        case 'answer':
          await peer.setRemoteDescription({ type: 'answer', sdp: signal.sdp });
          break;
        case 'candidate':
          // One candidate that cannot be used (an unresolvable .local name) spoils nothing.
          await peer.addIceCandidate(signal).catch(() => undefined);
          break;
      }
    };

    return {
      signal(signal) {
        applied = applied.then(() => apply(signal)).catch(() => fail('failed'));
      },
      send(frame) {
        if (closed) return;
        if (frame.byteLength > config.maxFrameBytes) return fail('too-large');
        if (queuedBytes + frame.byteLength > MAX_QUEUED_BYTES) return fail('overflow');
        const copy = new Uint8Array(frame.byteLength);
        copy.set(frame);
        queue.push(copy);
        queuedBytes += copy.byteLength;
        pump();
      },
      close() {
        if (!closed) shut();
      },
      get bufferedAmount() {
        return closed ? 0 : queuedBytes + channel.bufferedAmount;
      },
    };
  };
}
