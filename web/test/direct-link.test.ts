/**
 * The WebRTC wrapper against fake peer connections and data channels whose buffer the test
 * controls: pacing under the cap, refilling on `bufferedamountlow`, the caps, the frame limit both
 * ways, the order signals are applied in, and who hears about a close. The real thing runs in
 * e2e/direct.e2e.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { DirectCloseReason, DirectLinkHandlers, DirectSignal } from '@duet/core/session/direct-dialer';
import {
  browserConnectDirect,
  CHANNEL_HIGH_BYTES,
  CHANNEL_LOW_BYTES,
  MAX_QUEUED_BYTES,
} from '../src/lib/direct-link.ts';

class FakeChannel extends EventTarget {
  readyState: RTCDataChannelState = 'connecting';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  binaryType = 'blob';
  readonly sent: Uint8Array[] = [];
  closed = false;

  constructor(readonly init: RTCDataChannelInit | undefined) {
    super();
  }
  send(data: Uint8Array): void {
    if (this.readyState !== 'open') throw new Error('InvalidStateError');
    this.sent.push(data);
    this.bufferedAmount += data.byteLength;
  }
  close(): void {
    this.closed = true;
    this.readyState = 'closed';
  }
  open(): void {
    this.readyState = 'open';
    this.dispatchEvent(new Event('open'));
  }
  /** The network took everything but `left` bytes. */
  drain(left = 0): void {
    this.bufferedAmount = left;
    if (left <= this.bufferedAmountLowThreshold) this.dispatchEvent(new Event('bufferedamountlow'));
  }
  receive(data: unknown): void {
    this.dispatchEvent(Object.assign(new Event('message'), { data }));
  }
}

class FakePeer extends EventTarget {
  connectionState: RTCPeerConnectionState = 'new';
  localDescription: { sdp: string } | null = null;
  readonly calls: string[] = [];
  channel: FakeChannel | undefined;
  closed = false;
  badCandidate = false;

  constructor(readonly configuration: RTCConfiguration) {
    super();
  }
  createDataChannel(_label: string, init?: RTCDataChannelInit): FakeChannel {
    this.channel = new FakeChannel(init);
    return this.channel;
  }
  async setLocalDescription(): Promise<void> {
    await Promise.resolve();
    this.calls.push('setLocalDescription');
    this.localDescription = { sdp: `v=0 local ${this.calls.length}` };
  }
  async setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 5)); // slower than a candidate would be
    this.calls.push(`setRemoteDescription ${description.type}`);
  }
  async addIceCandidate(candidate: RTCIceCandidateInit): Promise<void> {
    this.calls.push(`addIceCandidate ${candidate.candidate}`);
    if (this.badCandidate) throw new Error('OperationError');
  }
  close(): void {
    this.closed = true;
  }
  gather(candidate: string | null): void {
    const event = new Event('icecandidate');
    const value = candidate === null ? null : { candidate, sdpMid: '0', sdpMLineIndex: 0 };
    this.dispatchEvent(Object.assign(event, { candidate: value }));
  }
  state(state: RTCPeerConnectionState): void {
    this.connectionState = state;
    this.dispatchEvent(new Event('connectionstatechange'));
  }
}

const MAX_FRAME = 65536;

function connect(initiator = false) {
  let peer: FakePeer | undefined;
  const signals: DirectSignal[] = [];
  const frames: Uint8Array[] = [];
  const closes: DirectCloseReason[] = [];
  let opened = 0;
  const handlers: DirectLinkHandlers = {
    onSignal: (signal) => signals.push(signal),
    onOpen: () => (opened += 1),
    onFrame: (frame) => frames.push(frame),
    onClose: (reason) => closes.push(reason),
  };
  const connectDirect = browserConnectDirect(
    { iceServers: [{ urls: 'stun:stun.example.org' }], maxFrameBytes: MAX_FRAME },
    (configuration) => (peer = new FakePeer(configuration)) as unknown as RTCPeerConnection,
  );
  const link = connectDirect({ initiator }, handlers);
  const made = peer!;
  return { link, peer: made, channel: made.channel!, signals, frames, closes, opened: () => opened };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const bytes = (length: number, fill = 1) => new Uint8Array(length).fill(fill);

describe('direct link (browser WebRTC wrapper)', () => {
  it('opens one negotiated, ordered, binary channel with the relay’s ICE servers', () => {
    const { peer, channel } = connect();
    expect(peer.configuration).toEqual({ iceServers: [{ urls: 'stun:stun.example.org' }] });
    expect(channel.init).toEqual({ negotiated: true, id: 0, ordered: true });
    expect(channel.binaryType).toBe('arraybuffer');
    expect(channel.bufferedAmountLowThreshold).toBe(CHANNEL_LOW_BYTES);
  });

  it('the initiator offers; candidates go to the partner; the end of gathering does not', async () => {
    const { peer, signals } = connect(true);
    await settle();
    peer.gather('candidate:1 1 udp 2122260223 a.local 5000 typ host');
    peer.gather(null);
    expect(signals).toEqual([
      { type: 'offer', sdp: 'v=0 local 1' },
      {
        type: 'candidate',
        candidate: 'candidate:1 1 udp 2122260223 a.local 5000 typ host',
        sdpMid: '0',
        sdpMLineIndex: 0,
      },
    ]);
  });

  it('applies the partner’s signals in order: a candidate waits for the description before it', async () => {
    const { link, peer, signals } = connect(false);
    link.signal({ type: 'offer', sdp: 'v=0 theirs' });
    link.signal({ type: 'candidate', candidate: 'candidate:9', sdpMid: '0', sdpMLineIndex: 0 });
    await settle();
    expect(peer.calls).toEqual([
      'setRemoteDescription offer',
      'setLocalDescription',
      'addIceCandidate candidate:9',
    ]);
    expect(signals).toEqual([{ type: 'answer', sdp: 'v=0 local 2' }]);
  });

  it('an unusable candidate spoils nothing', async () => {
    const { link, peer, closes } = connect(true);
    peer.badCandidate = true;
    link.signal({ type: 'answer', sdp: 'v=0' });
    link.signal({ type: 'candidate', candidate: 'candidate:x', sdpMid: '0', sdpMLineIndex: 0 });
    await settle();
    expect(closes).toEqual([]);
  });

  it('keeps the channel’s buffer under the cap and refills it when it drains', () => {
    const { link, channel, opened } = connect();
    const frame = bytes(60_000);
    for (let i = 0; i < 40; i++) link.send(frame); // 2.4 MB, before the channel is even open
    expect(channel.sent).toHaveLength(0);
    channel.open();
    expect(opened()).toBe(1);
    expect(channel.bufferedAmount).toBeLessThanOrEqual(CHANNEL_HIGH_BYTES);
    const first = channel.sent.length;
    expect(first).toBe(Math.floor(CHANNEL_HIGH_BYTES / frame.byteLength));
    channel.drain(CHANNEL_HIGH_BYTES / 2); // above the low mark: nothing happens
    expect(channel.sent).toHaveLength(first);
    channel.drain(0);
    expect(channel.sent.length).toBeGreaterThan(first);
    expect(channel.bufferedAmount).toBeLessThanOrEqual(CHANNEL_HIGH_BYTES);
    for (let i = 0; i < 10 && channel.sent.length < 40; i++) channel.drain(0);
    expect(channel.sent).toHaveLength(40);
  });

  it('sends a copy, so that the caller may reuse its buffer', () => {
    const { link, channel } = connect();
    channel.open();
    const frame = bytes(10, 7);
    link.send(frame);
    frame.fill(0);
    expect(channel.sent[0]).toEqual(bytes(10, 7));
  });

  it('closes as overflow when too much waits behind the channel', () => {
    const { link, channel, peer, closes } = connect();
    const frame = bytes(MAX_FRAME);
    for (let i = 0; i <= MAX_QUEUED_BYTES / MAX_FRAME; i++) link.send(frame);
    expect(closes).toEqual(['overflow']);
    expect(channel.closed && peer.closed).toBe(true);
  });

  it('refuses frames larger than the relay allows, both ways', () => {
    const sending = connect();
    sending.link.send(bytes(MAX_FRAME + 1));
    expect(sending.closes).toEqual(['too-large']);

    const receiving = connect();
    receiving.channel.open();
    receiving.channel.receive(new ArrayBuffer(16));
    receiving.channel.receive(new ArrayBuffer(MAX_FRAME + 1));
    expect(receiving.frames).toEqual([new Uint8Array(16)]);
    expect(receiving.closes).toEqual(['too-large']);
  });

  it('takes a text message from the partner as a broken link', () => {
    const { channel, closes, frames } = connect();
    channel.open();
    channel.receive('hello');
    expect(frames).toEqual([]);
    expect(closes).toEqual(['failed']);
  });

  it('tells of a close once, and never after its own close()', () => {
    const first = connect();
    first.channel.dispatchEvent(new Event('close'));
    first.peer.state('failed');
    expect(first.closes).toEqual(['closed']);

    const second = connect();
    second.peer.state('disconnected'); // may heal: not a close
    second.peer.state('failed');
    expect(second.closes).toEqual(['failed']);

    const third = connect();
    third.link.close();
    third.channel.dispatchEvent(new Event('close'));
    third.peer.state('closed');
    expect(third.closes).toEqual([]);
    expect(third.peer.closed).toBe(true);
    third.link.send(bytes(1));
    expect(third.channel.sent).toEqual([]);
  });
});
