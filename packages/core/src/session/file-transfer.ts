/**
 * Files, end to end: every transfer of one conversation, in both directions. It rides on the
 * conversation's channel as a `PayloadHandler` (conversation.ts), so that chunks are sealed like
 * messages by whatever ratchet the suite runs, and take turns with them.
 *
 * - Outgoing (file-sender.ts): offer, chunks within a window, the digest, until `done`.
 * - Incoming (file-receiver.ts): accept (the user, or automatically for small images), chunks
 *   stored in order, the SHA-256 checked before anything is offered for download.
 * - Fairness: one payload is prepared at a time, round-robin over the outgoing transfers, with
 *   at most two queued in the conversation. A message written meanwhile goes out after those
 *   two, never behind a whole file.
 * - Resume: when the path comes back (or nothing moved for a while) every transfer carries on
 *   from the last chunk the receiver confirmed.
 *
 * No socket, no DOM and no file system here: sources, sinks, the clock and timers are passed in.
 * docs/delivery.md describes the protocol.
 */
import { randomBytes, toHex } from '../bytes.ts';
import { duetError, isDuetError, type ErrorCode } from '../errors.ts';
import {
  CHUNK_OVERHEAD_BYTES,
  decodeFileEnvelope,
  encodeFileEnvelope,
  encodeFileEnvelopeParts,
  TRANSFER_ID_BYTES,
  type CancelReason,
  type FileEnvelope,
} from '../protocol/file-envelope.ts';
import type { Timers } from './conversation.ts';
import type { PayloadHandler, PayloadPort } from './payloads.ts';
import {
  sha256Hash,
  type FileMeta,
  type FileSource,
  type IncrementalHash,
  type OpenSink,
} from './file-io.ts';
import { FileReceiver } from './file-receiver.ts';
import { FileSender } from './file-sender.ts';
import { incomingView, isPreviewable, outgoingView, type FileView } from './file-view.ts';
import { Throughput } from './throughput.ts';

export type { FileState, FileView } from './file-view.ts';

/** 2 GiB: the largest file sent or accepted unless configured otherwise. */
export const DEFAULT_MAX_FILE_BYTES = 2 * 1024 ** 3;
/** Images up to this size are accepted without asking. */
export const DEFAULT_AUTO_ACCEPT_BYTES = 10 * 1024 ** 2;
/**
 * Chunks sent and not yet confirmed, over all outgoing transfers together (about 480 KiB with
 * `modern`'s chunks): what the receiver holds at most, and what waits in the relay for a slow
 * reader, well under the relay's MAX_BUFFERED_BYTES.
 */
export const DEFAULT_WINDOW = 8;
/** Payloads queued in the conversation at once: one being sealed, one ready behind it. */
const PIPELINE = 2;
/** Above this many bytes waiting in our socket, bulk waits (chat then waits behind less). */
export const BACKLOG_HIGH_BYTES = 256 * 1024;
export const BACKLOG_POLL_MS = 10;
/** Unconfirmed transfers go out again after this long without progress (doubling up to the max). */
export const FILE_RETRANSMIT_MIN_MS = 2_000;
export const FILE_RETRANSMIT_MAX_MS = 30_000;
/** Incoming transfers not yet finished, at most; more offers are refused. */
export const MAX_ACTIVE_INCOMING = 64;
export interface FileTransfersOptions<Result> {
  port: PayloadPort;
  timers: Timers;
  openSink: OpenSink<Result>;
  onChange: (view: FileView<Result>) => void;
  now?: () => number;
  random?: (length: number) => Uint8Array;
  hash?: () => IncrementalHash;
  maxFileBytes?: number;
  /** Images (previewable) up to this size are accepted without asking (default 10 MiB)... */
  autoAcceptBytes?: number;
  /** ...unless this rule is given instead: which offers to accept without asking. */
  autoAccept?: (meta: FileMeta) => boolean;
  window?: number;
}

interface Outgoing {
  readonly sender: FileSender;
  readonly speed: Throughput;
}

interface Incoming<Result> {
  readonly receiver: FileReceiver<Result>;
  readonly speed: Throughput;
}

/** What the partner's reason for ending a transfer is here: no error when a person cancelled or declined. */
const PARTNER_CODES: Record<CancelReason, ErrorCode | undefined> = {
  cancelled: undefined,
  declined: undefined,
  'too-large': 'too-large',
  tampered: 'tampered',
  unknown: 'transfer-lost',
  failed: 'transfer-failed',
};

export class FileTransfers<Result> implements PayloadHandler {
  readonly #options: Required<Omit<FileTransfersOptions<Result>, 'autoAccept'>> &
    Pick<FileTransfersOptions<Result>, 'autoAccept'>;
  readonly #outgoing = new Map<string, Outgoing>();
  readonly #incoming = new Map<string, Incoming<Result>>();
  /** Round-robin position over the outgoing transfers. */
  #turn = 0;
  #pathUp = false;
  #pumping = false;
  /** Something changed while the pump ran: it goes round once more before it stops. */
  #pumpAgain = false;
  #ended = false;
  #pollTimer: unknown;
  #retransmitTimer: unknown;
  #retransmitMs = FILE_RETRANSMIT_MIN_MS;
  /** Ids already answered `unknown` since the path last came up: once each. */
  #answeredUnknown = new Set<string>();

  constructor(options: FileTransfersOptions<Result>) {
    this.#options = {
      now: () => Date.now(),
      random: randomBytes,
      hash: sha256Hash,
      maxFileBytes: DEFAULT_MAX_FILE_BYTES,
      autoAcceptBytes: DEFAULT_AUTO_ACCEPT_BYTES,
      window: DEFAULT_WINDOW,
      ...options,
    };
  }

  /** False for a suite that carries no binary payloads (`des`): no file can be sent or received. */
  get supported(): boolean {
    return this.#options.port.maxBytes > CHUNK_OVERHEAD_BYTES;
  }

  get maxFileBytes(): number {
    return this.#options.maxFileBytes;
  }

  /**
   * Offers a file to the partner; returns the transfer's id. Throws DuetError `files-unsupported`
   * (`des`), `too-large` (over `maxFileBytes`, before anything is sent) or `bad-input` (a name
   * or type that cannot travel).
   */
  send(source: FileSource, file: { name: string; mime: string }): string {
    if (!this.supported) throw duetError('files-unsupported', 'this suite carries no files');
    if (this.#ended) throw duetError('no-partner', 'the conversation is over');
    if (source.size > this.#options.maxFileBytes)
      throw duetError('too-large', `files are limited to ${this.#options.maxFileBytes} bytes`);
    const id = this.#options.random(TRANSFER_ID_BYTES);
    const meta: FileMeta = { name: file.name, size: source.size, mime: file.mime };
    const chunkBytes = this.#options.port.maxBytes - CHUNK_OVERHEAD_BYTES;
    // Checks the name and type before the transfer exists (throws bad-input).
    encodeFileEnvelope({ type: 'offer', id, chunkBytes, ...meta });
    const sender = new FileSender({
      id,
      source,
      meta,
      chunkBytes,
      window: this.#options.window,
      hash: this.#options.hash(),
    });
    const key = toHex(id);
    this.#outgoing.set(key, { sender, speed: new Throughput() });
    this.#changed(key);
    this.#armRetransmit();
    this.#pump();
    return key;
  }

  /** The user accepts an incoming offer. */
  accept(id: string): void {
    void this.#incoming.get(id)?.receiver.accept();
  }

  /** The user cancels a transfer (either direction), or declines an offer. */
  cancel(id: string): void {
    const receiver = this.#incoming.get(id)?.receiver;
    if (receiver?.active) return receiver.cancel(true);
    const sender = this.#outgoing.get(id)?.sender;
    if (!sender?.active) return;
    this.#stop(sender, { cancelledBy: 'you' });
    this.#post({ type: 'cancel', id: sender.id, reason: 'cancelled' });
  }

  views(): FileView<Result>[] {
    return [...this.#outgoing.keys(), ...this.#incoming.keys()].map((id) => this.#view(id)!);
  }

  /** Settles once every incoming transfer's queued writes are done (tests, leaving). */
  async settled(): Promise<void> {
    await Promise.all([...this.#incoming.values()].map((incoming) => incoming.receiver.settled));
  }

  // --- PayloadHandler ------------------------------------------------------------------------

  receive(bytes: Uint8Array): void {
    let envelope: FileEnvelope;
    try {
      envelope = decodeFileEnvelope(bytes);
    } catch {
      return; // authenticated but malformed: a newer or broken partner; nothing to act on
    }
    const key = toHex(envelope.id);
    try {
      if (this.#outgoing.has(key)) this.#fromReceiver(key, envelope);
      else if (this.#incoming.has(key) || envelope.type === 'offer') this.#fromSender(key, envelope);
      else this.#unknown(key, envelope);
    } catch (error) {
      // The partner broke the protocol for this transfer: it ends, the conversation goes on.
      if (!isDuetError(error)) throw error;
      this.#failTransfer(key, 'transfer-failed');
    }
  }

  pathUp(): void {
    this.#pathUp = true;
    this.#answeredUnknown.clear();
    this.#retransmitMs = FILE_RETRANSMIT_MIN_MS;
    for (const { sender } of this.#outgoing.values()) sender.rewind();
    for (const { receiver } of this.#incoming.values()) receiver.resume();
    this.#armRetransmit();
    this.#pump();
  }

  pathDown(): void {
    this.#pathUp = false;
    this.#options.timers.clear(this.#retransmitTimer);
    this.#retransmitTimer = undefined;
  }

  ended(why: 'left' | ErrorCode): void {
    this.#ended = true;
    this.pathDown();
    this.#options.timers.clear(this.#pollTimer);
    for (const { sender } of this.#outgoing.values()) {
      this.#stop(sender, why === 'left' ? { cancelledBy: 'you' } : { code: why });
    }
    for (const { receiver } of this.#incoming.values()) {
      if (why === 'left') receiver.cancel(false);
      else receiver.stopped(why);
    }
  }

  // --- Envelopes -----------------------------------------------------------------------------

  #fromReceiver(key: string, envelope: FileEnvelope): void {
    const { sender } = this.#outgoing.get(key)!;
    switch (envelope.type) {
      case 'accept':
      case 'ack': {
        if (!sender.active) return this.#answerFinishedOutgoing(sender);
        const from = envelope.type === 'accept' ? envelope.from : envelope.upTo;
        const progress = envelope.type === 'accept' ? sender.accepted(from) : sender.confirmed(from);
        if (progress === 'progress') this.#progressed();
        this.#changed(key);
        if (progress !== 'none') this.#pump();
        return;
      }
      case 'done':
        sender.finished();
        this.#changed(key);
        this.#armRetransmit();
        return;
      case 'cancel': {
        const code = PARTNER_CODES[envelope.reason];
        const declined = envelope.reason === 'declined';
        return this.#stop(sender, code ? { code } : { cancelledBy: 'partner', declined });
      }
      default:
        // An offer, chunk or digest for a transfer we send: the partner is confused; say so.
        throw duetError('bad-frame', 'sender-side envelope for an outgoing transfer');
    }
  }

  #fromSender(key: string, envelope: FileEnvelope): void {
    if (envelope.type === 'offer') return this.#offered(key, envelope);
    const { receiver } = this.#incoming.get(key)!;
    switch (envelope.type) {
      case 'chunk':
        return receiver.chunk(envelope.index, envelope.bytes);
      case 'end':
        return receiver.end(envelope.sha256);
      case 'cancel':
        return receiver.stopped(PARTNER_CODES[envelope.reason]);
      default:
        throw duetError('bad-frame', 'receiver-side envelope for an incoming transfer');
    }
  }

  #offered(key: string, offer: Extract<FileEnvelope, { type: 'offer' }>): void {
    const known = this.#incoming.get(key);
    if (known) return known.receiver.offeredAgain();
    const meta: FileMeta = { name: offer.name, size: offer.size, mime: offer.mime };
    const receiver = new FileReceiver<Result>(
      {
        id: offer.id,
        meta,
        chunkBytes: offer.chunkBytes,
        window: this.#options.window,
        hash: this.#options.hash(),
      },
      {
        send: (envelope) => this.#post(envelope),
        later: (callback, ms) => this.#options.timers.set(callback, ms),
        changed: () => this.#changed(key),
        openSink: this.#options.openSink,
      },
    );
    this.#incoming.set(key, { receiver, speed: new Throughput() });
    const active = [...this.#incoming.values()].filter((i) => i.receiver.active).length;
    if (offer.size > this.#options.maxFileBytes || active > MAX_ACTIVE_INCOMING) {
      const reason = offer.size > this.#options.maxFileBytes ? 'too-large' : 'failed';
      receiver.stopped(reason === 'too-large' ? 'too-large' : 'transfer-failed');
      this.#post({ type: 'cancel', id: offer.id, reason });
      return;
    }
    this.#changed(key);
    const { autoAccept, autoAcceptBytes } = this.#options;
    if (autoAccept ? autoAccept(meta) : isPreviewable(meta.mime) && meta.size <= autoAcceptBytes)
      void receiver.accept();
  }

  /** An envelope for a transfer this side does not know (the page was reloaded, say). */
  #unknown(key: string, envelope: FileEnvelope): void {
    if (envelope.type === 'cancel' || this.#answeredUnknown.has(key)) return;
    this.#answeredUnknown.add(key);
    this.#post({ type: 'cancel', id: envelope.id, reason: 'unknown' });
  }

  /** A finished outgoing transfer hears from the receiver again: repeat how it ended. */
  #answerFinishedOutgoing(sender: FileSender): void {
    if (sender.phase === 'cancelled' || sender.phase === 'failed')
      this.#post({ type: 'cancel', id: sender.id, reason: sender.code ? 'failed' : 'cancelled' });
  }

  #failTransfer(key: string, code: ErrorCode): void {
    const sender = this.#outgoing.get(key)?.sender;
    if (sender?.active) {
      this.#stop(sender, { code });
      this.#post({ type: 'cancel', id: sender.id, reason: 'failed' });
    }
    const receiver = this.#incoming.get(key)?.receiver;
    if (receiver?.active) {
      receiver.stopped(code);
      this.#post({ type: 'cancel', id: receiver.id, reason: 'failed' });
    }
  }

  #stop(sender: FileSender, end: Parameters<FileSender['stop']>[0]): void {
    if (!sender.active) return;
    sender.stop(end);
    this.#changed(toHex(sender.id));
    this.#armRetransmit();
  }

  // --- Sending -------------------------------------------------------------------------------

  /** Control envelopes (accept, ack, done, cancel) go out at once, in turn with the rest. */
  #post(envelope: FileEnvelope): void {
    if (this.#pathUp) void this.#options.port.send(encodeFileEnvelope(envelope));
  }

  /** Sends what the outgoing transfers have ready, one payload at a time, taking turns. */
  #pump(): void {
    if (!this.#pathUp) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    void this.#pumpLoop().finally(() => {
      this.#pumping = false;
      if (this.#pumpAgain) {
        this.#pumpAgain = false;
        this.#pump();
      }
    });
  }

  async #pumpLoop(): Promise<void> {
    const inFlight: Promise<boolean>[] = [];
    while (this.#pathUp) {
      if (this.#options.port.backlog > BACKLOG_HIGH_BYTES) {
        // Our socket is full: wait for it to drain rather than queue more behind the chat.
        this.#options.timers.clear(this.#pollTimer);
        this.#pollTimer = this.#options.timers.set(() => this.#pump(), BACKLOG_POLL_MS);
        break;
      }
      this.#pumpAgain = false;
      const payload = await this.#nextPayload();
      if (!payload) break;
      inFlight.push(this.#options.port.send(payload));
      if (inFlight.length >= PIPELINE) await inFlight.shift();
    }
    await Promise.all(inFlight);
  }

  /** The next envelope of the next outgoing transfer that has one, round-robin. */
  async #nextPayload(): Promise<Uint8Array[] | undefined> {
    const transfers = [...this.#outgoing.values()].filter((o) => o.sender.active);
    const inFlight = transfers.reduce((sum, o) => sum + o.sender.inFlight, 0);
    for (let i = 0; i < transfers.length; i++) {
      const outgoing = transfers[(this.#turn + i) % transfers.length]!;
      let envelope: FileEnvelope | undefined;
      try {
        envelope = await outgoing.sender.next(this.#options.window - inFlight);
      } catch (error) {
        this.#stop(outgoing.sender, { code: isDuetError(error) ? error.code : 'file-read-failed' });
        this.#post({ type: 'cancel', id: outgoing.sender.id, reason: 'failed' });
        continue;
      }
      if (!envelope || !outgoing.sender.active) continue;
      this.#turn = (this.#turn + i + 1) % transfers.length;
      return encodeFileEnvelopeParts(envelope);
    }
    return undefined;
  }

  // --- Retransmission ------------------------------------------------------------------------

  #progressed(): void {
    this.#retransmitMs = FILE_RETRANSMIT_MIN_MS;
    this.#armRetransmit();
  }

  /** While an outgoing transfer waits on the receiver, re-send from the confirmed point if nothing moves. */
  #armRetransmit(): void {
    this.#options.timers.clear(this.#retransmitTimer);
    this.#retransmitTimer = undefined;
    const waiting = [...this.#outgoing.values()].some((o) => o.sender.active);
    if (!waiting || !this.#pathUp) return;
    this.#retransmitTimer = this.#options.timers.set(() => {
      this.#retransmitTimer = undefined;
      this.#retransmitMs = Math.min(2 * this.#retransmitMs, FILE_RETRANSMIT_MAX_MS);
      for (const { sender } of this.#outgoing.values()) sender.rewind();
      this.#armRetransmit();
      this.#pump();
    }, this.#retransmitMs);
  }

  // --- Views ---------------------------------------------------------------------------------

  #changed(key: string): void {
    const view = this.#view(key);
    if (view) this.#options.onChange(view);
  }

  #view(key: string): FileView<Result> | undefined {
    const now = this.#options.now();
    const outgoing = this.#outgoing.get(key);
    if (outgoing) return outgoingView(key, outgoing.sender, outgoing.speed, now);
    const incoming = this.#incoming.get(key);
    return incoming && incomingView(key, incoming.receiver, incoming.speed, now);
  }
}

/**
 * Creates a conversation's file transfers and attaches them to it (the wiring the browser app
 * and the Node client share).
 */
export function attachFileTransfers<Result>(
  conversation: { attachPayloads(handler: PayloadHandler): PayloadPort },
  options: Omit<FileTransfersOptions<Result>, 'port'>,
): FileTransfers<Result> {
  // The handler forwards to the transfers, which need the port the handler's attachment returns.
  const handler = { target: undefined as FileTransfers<Result> | undefined };
  const port = conversation.attachPayloads({
    receive: (bytes) => handler.target?.receive(bytes),
    pathUp: () => handler.target?.pathUp(),
    pathDown: () => handler.target?.pathDown(),
    ended: (why) => handler.target?.ended(why),
  });
  handler.target = new FileTransfers({ ...options, port });
  return handler.target;
}
