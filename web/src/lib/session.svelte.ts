/**
 * The state the chat view shows, kept in step with one Conversation (packages/core). The
 * conversation does the work; this class only turns its events into Svelte state and gives it
 * a browser WebSocket and the browser's timers.
 */
import type { ErrorCode } from '@duet/core/errors';
import type { SuiteId } from '@duet/core/protocol/control';
import type {
  Conversation,
  ConversationEvent,
  ConversationStatus,
  PartnerState,
} from '@duet/core/session/conversation';
import type { DeliveryStatus } from '@duet/core/session/outbox';
import type { PathName } from '@duet/core/session/path-switch';
import type { ChannelSettings } from '@duet/core/session/suites';
import type { FileShelf } from './files.svelte.ts';
import { openEarlySocket } from './early-socket.ts';
import { loadConversationCode, loadWords } from './lazy.ts';
import { readAlwaysRelay, writeAlwaysRelay } from './privacy.ts';

/** `idle` is the start (or join) view; the rest are the conversation's states. */
export type Status = 'idle' | ConversationStatus;
export type { DeliveryStatus, PartnerState, PathName };

export interface ChatMessage {
  kind: 'message';
  /** Unique in the timeline: `out-<id>` for ours, `in-<n>` for the partner's. */
  key: string;
  /** For outgoing messages, the conversation's message id. */
  id?: number;
  direction: 'in' | 'out';
  text: string;
  /** Milliseconds since the epoch, when the message was sent or shown here. */
  time: number;
  status?: DeliveryStatus;
}

export type SystemKind = 'partner-joined' | 'partner-away' | 'partner-back' | 'partner-left';

/** A line in the conversation about the partner, not from it. */
export interface SystemLine {
  kind: 'system';
  key: string;
  what: SystemKind;
  time: number;
}

/** A file, in or out: its state lives in the conversation's FileShelf. */
export interface FileItem {
  kind: 'file';
  key: string;
  /** The transfer's id in `shelf`. */
  id: string;
  direction: 'in' | 'out';
  time: number;
  /** The files of the conversation it belongs to (a rejoin starts another). */
  shelf: FileShelf;
}

export type TimelineItem = ChatMessage | SystemLine | FileItem;

export interface Banner {
  code: ErrorCode;
  /** Fatal errors end the session (or wait for a retry); others are warnings and the chat goes on. */
  fatal: boolean;
  /** When Duet tries again by itself (milliseconds since the epoch), for a countdown. */
  retryAt?: number;
}

/** How this page came to the room: it started the conversation, or joined one. */
export type Origin = 'started' | 'joined';

export interface JoinRequest extends ChannelSettings {
  origin: Origin;
}

/** Failures of the handshake itself: the passphrase can be entered again, no reload needed. */
const CHANNEL_FAILURES = new Set<ErrorCode>(['passphrase-mismatch', 'handshake-failed', 'bad-point']);

const browserTimers = {
  set: (callback: () => void, ms: number) => setTimeout(callback, ms),
  clear: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class ChatSession {
  status = $state<Status>('idle');
  timeline = $state<TimelineItem[]>([]);
  banner = $state<Banner | null>(null);
  partner = $state<PartnerState>('absent');
  room = $state('');
  suite = $state<SuiteId>('modern');
  saltHex = $state('');
  origin = $state<Origin>('joined');
  /**
   * The passphrase, for whoever started the conversation: shown (masked) while waiting for the
   * partner, until the channel is secure, and again if the partner leaves. Never in a URL,
   * storage or frame (the channel holds it in memory for retries anyway).
   */
  passphrase = $state('');
  /** `modern`: the current session's safety code, as words; null until the channel is secure. */
  safetyCode = $state<string[] | null>(null);
  /** After a mismatch: the partner is trying again and waits for this side to. */
  partnerRetried = $state(false);
  /** After this side retried: the partner has not yet. */
  awaitingPartnerRetry = $state(false);
  /** Someone was refused a seat here because it asked for this other suite. */
  refusedSuite = $state<SuiteId | null>(null);
  /** Incoming messages so far (the view counts the unseen ones). */
  incomingCount = $state(0);
  /** The current conversation's files (`modern`); null for `des`, which carries none. */
  files = $state<FileShelf | null>(null);

  /** The path our frames take once the channel is ready: `direct` (WebRTC) or `relay`. */
  path = $state<PathName | undefined>(undefined);
  /** The partner said it keeps to the relay ("Always use the relay" on its side). */
  partnerPrefersRelay = $state(false);
  /** "Always use the relay (hide my IP address from my partner)": remembered in this browser. */
  alwaysRelay = $state(readAlwaysRelay());
  /** The passphrase failed: the view offers to retry with another one. */
  canRetry = $derived(
    (this.status === 'failed' && CHANNEL_FAILURES.has(this.banner?.code ?? 'bad-input')) ||
      (this.suite === 'des' && this.banner?.code === 'decrypt-failed'),
  );
  messageCount = $derived(this.timeline.filter((item) => item.kind !== 'system').length);

  #conversation: Conversation | undefined;
  /** What `passphrase` shows while waiting, for whoever started. */
  #own = '';
  /** What this conversation joined with, so that a suite mismatch is fixed in one click. */
  #request: JoinRequest | undefined;
  #incoming = 0;
  #lines = 0;
  /** Every conversation's files since the last leave: their URLs go when the user leaves. */
  #shelves: FileShelf[] = [];
  /** Counts safety codes asked for and cleared, so that a late word list never shows an old one. */
  #codeSession = 0;
  /** Counts joins and leaves, so that a join still loading its code never outlives a leave. */
  #joins = 0;
  readonly #url: string;

  constructor(url: string) {
    this.#url = url;
  }

  async join(request: JoinRequest): Promise<void> {
    this.room = request.room;
    this.suite = request.suite;
    this.saltHex = request.suite === 'des' ? request.saltHex : '';
    this.origin = request.origin;
    this.#own = request.origin === 'started' ? request.passphrase : '';
    this.passphrase = this.#own;
    this.#request = { ...request };
    this.banner = null;
    this.partner = 'absent';
    this.#clearSafetyCode();
    this.partnerRetried = false;
    this.awaitingPartnerRetry = false;
    this.refusedSuite = null;
    this.path = undefined;
    this.partnerPrefersRelay = false;
    this.status = 'connecting';
    const attempt = ++this.#joins;
    // The socket and the relay's settings, asked for at once: their round trips run while the
    // view is drawn and the code loads. The conversation takes the socket over (transport.ts);
    // its code checks the settings (client-config.ts).
    let early: WebSocket | undefined = openEarlySocket(this.#url);
    const configAnswer = request.suite === 'modern' ? fetch('/config', { cache: 'no-store' }) : undefined;
    configAnswer?.catch(() => undefined); // a failure is dealt with where the answer is read
    try {
      if (await this.#start(request, attempt, early, configAnswer)) early = undefined;
    } finally {
      early?.close(); // this join ended before its conversation took the socket
    }
  }

  /** True when it handed the socket to a conversation. */
  async #start(
    request: JoinRequest,
    attempt: number,
    early: WebSocket,
    configAnswer: Promise<Response> | undefined,
  ): Promise<boolean> {
    let code;
    try {
      code = await loadConversationCode();
    } catch {
      // The app's own code did not download: as good as an unreachable relay, and a rejoin retries.
      if (attempt !== this.#joins) return false;
      this.status = 'closed';
      this.banner = { code: 'connection-lost', fatal: true };
      return false;
    }
    const {
      Conversation,
      browserConnect,
      browserConnectDirect,
      createChannel,
      readClientConfig,
      FileShelf: Shelf,
    } = code;
    let channel;
    try {
      channel = await createChannel(request);
    } catch {
      if (attempt !== this.#joins) return false;
      this.status = 'failed';
      this.banner = { code: 'bad-input', fatal: true };
      return false;
    }
    if (attempt !== this.#joins) return false;
    // The direct path needs the relay's ICE settings; without them, the relay carries everything.
    const config = configAnswer ? await readClientConfig(configAnswer) : undefined;
    if (attempt !== this.#joins) return false;
    const direct =
      config && typeof RTCPeerConnection === 'function'
        ? { connect: browserConnectDirect(config), allowed: !this.alwaysRelay }
        : undefined;
    const conversation = new Conversation({
      room: request.room,
      suite: request.suite,
      channel,
      connect: browserConnect(this.#url, early),
      timers: browserTimers,
      ...(direct ? { direct } : {}),
      onEvent: (event) => {
        if (this.#conversation === conversation) this.#onEvent(event);
      },
    });
    this.#conversation = conversation;
    this.files = request.suite === 'modern' ? this.#shelf(conversation, Shelf) : null;
    conversation.start();
    return true;
  }

  /** Sends files picked, dropped or pasted (`modern` only). */
  sendFiles(files: Iterable<File>): void {
    this.files?.send(files);
  }

  #shelf(conversation: Conversation, Shelf: typeof FileShelf): FileShelf {
    const shelf: FileShelf = new Shelf(conversation, {
      onAdded: (id, direction) => {
        if (this.#conversation !== conversation) return;
        this.timeline.push({ kind: 'file', key: `file-${id}`, id, direction, time: Date.now(), shelf });
        if (direction === 'in') this.incomingCount += 1;
      },
    });
    this.#shelves.push(shelf);
    return shelf;
  }

  send(text: string): void {
    if (this.status !== 'ready' || text.length === 0) return;
    this.#conversation?.send(text);
  }

  retry(passphrase: string): void {
    this.awaitingPartnerRetry = this.suite === 'modern' && !this.partnerRetried;
    this.partnerRetried = false;
    this.banner = null;
    if (this.origin === 'started') this.passphrase = this.#own = passphrase;
    if (this.#request) this.#request.passphrase = passphrase;
    this.#conversation?.retry(passphrase);
  }

  /** Before the partner arrives, whoever started may pick another passphrase. */
  changePassphrase(passphrase: string): void {
    if (this.status !== 'waiting' || passphrase === '') return;
    this.passphrase = this.#own = passphrase;
    if (this.#request) this.#request.passphrase = passphrase;
    this.#conversation?.retry(passphrase);
  }

  /** After the connection was lost for good: join the same room again; the messages stay. */
  async rejoin(): Promise<void> {
    const request = this.#request;
    if (!request || this.status !== 'closed') return;
    this.#conversation = undefined;
    await this.join(request);
  }

  /** After a suite mismatch: join the same room again with the other suite. */
  async switchSuite(): Promise<void> {
    const request = this.#request;
    if (!request) return;
    const suite: SuiteId = this.suite === 'modern' ? 'des' : 'modern';
    const old = this.#conversation;
    this.#conversation = undefined; // its last events are not ours to show
    old?.leave();
    await this.join({ ...request, suite, saltHex: suite === 'des' ? request.saltHex : '' });
  }

  leave(): void {
    this.#joins += 1;
    this.#conversation?.leave();
    this.#conversation = undefined;
    for (const shelf of this.#shelves.splice(0)) shelf.destroy();
    this.files = null;
    this.#request = undefined;
    this.passphrase = this.#own = '';
    this.#clearSafetyCode();
    this.timeline = [];
    this.partner = 'absent';
    this.banner = null;
    this.status = 'idle';
  }

  /** Turns "Always use the relay" on or off, here and now and for later conversations. */
  setAlwaysRelay(value: boolean): void {
    this.alwaysRelay = value;
    writeAlwaysRelay(value);
    this.#conversation?.setDirectAllowed(!value);
  }

  dismissBanner(): void {
    if (!this.banner?.fatal) this.banner = null;
    if (this.banner === null) this.refusedSuite = null;
  }

  #onEvent(event: ConversationEvent): void {
    switch (event.type) {
      case 'status':
        this.#onStatus(event.status);
        break;
      case 'partner':
        this.#onPartner(event.state);
        break;
      case 'path':
        this.path = event.path;
        break;
      case 'partner-direct':
        this.partnerPrefersRelay = !event.allowed;
        break;
      case 'outgoing':
        this.timeline.push({
          kind: 'message',
          key: `out-${event.id}`,
          id: event.id,
          direction: 'out',
          text: event.text,
          time: Date.now(),
          status: 'sending',
        });
        break;
      case 'delivery': {
        const message = this.timeline.find(
          (m): m is ChatMessage => m.kind === 'message' && m.direction === 'out' && m.id === event.id,
        );
        if (message) message.status = event.status;
        break;
      }
      case 'incoming':
        this.timeline.push({
          kind: 'message',
          key: `in-${this.#incoming++}`,
          direction: 'in',
          text: event.text,
          time: Date.now(),
        });
        this.incomingCount += 1;
        break;
      case 'problem':
        this.banner = {
          code: event.code,
          fatal: event.fatal,
          ...(event.retryAfterMs === undefined ? {} : { retryAt: Date.now() + event.retryAfterMs }),
        };
        if (event.code === 'passphrase-mismatch') this.awaitingPartnerRetry = false;
        break;
      case 'safety-code':
        void this.#showSafetyCode(event.code);
        break;
      case 'partner-retried':
        this.partnerRetried = true;
        break;
      case 'partner-refused':
        this.refusedSuite = event.suite;
        this.banner = { code: event.code, fatal: false };
        break;
      default: {
        const never: never = event;
        throw new Error(`unhandled event ${String(never)}`);
      }
    }
  }

  #onStatus(status: ConversationStatus): void {
    this.status = status;
    if (status === 'ready') {
      // Secure (or, for des, keyed): the passphrase is no longer needed on screen.
      this.passphrase = '';
      this.awaitingPartnerRetry = false;
      this.partnerRetried = false;
      // Back to normal: a warning about an earlier frame no longer needs to stand, nor a lost connection.
      const banner = this.banner;
      if (
        banner &&
        (!banner.fatal || banner.code === 'connection-lost') &&
        banner.code !== 'decrypt-failed'
      ) {
        this.banner = null;
      }
    } else if (status === 'waiting') {
      // The partner left: whoever started may invite someone again.
      this.passphrase = this.#own;
      this.#clearSafetyCode();
    } else if (status !== 'reconnecting') {
      // A new handshake or no partner: the old session's code no longer holds.
      this.#clearSafetyCode();
    }
    if (status === 'reconnecting') this.banner = { code: 'connection-lost', fatal: false };
  }

  #onPartner(state: PartnerState): void {
    const before = this.partner;
    this.partner = state;
    const what: SystemKind | undefined =
      state === 'present'
        ? before === 'away'
          ? 'partner-back'
          : before === 'absent'
            ? 'partner-joined'
            : undefined
        : state === 'away'
          ? before === 'away'
            ? undefined
            : 'partner-away'
          : before === 'absent'
            ? undefined
            : 'partner-left';
    if (what) this.timeline.push({ kind: 'system', key: `line-${this.#lines++}`, what, time: Date.now() });
    if (what === 'partner-left' || what === 'partner-joined') {
      this.partnerRetried = false;
      this.awaitingPartnerRetry = false;
    }
  }

  async #showSafetyCode(code: readonly number[]): Promise<void> {
    const session = ++this.#codeSession;
    const { safetyCodeWords } = await loadWords();
    if (session === this.#codeSession) this.safetyCode = safetyCodeWords(code);
  }

  #clearSafetyCode(): void {
    this.#codeSession += 1;
    this.safetyCode = null;
  }
}
