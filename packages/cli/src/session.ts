/**
 * One conversation in a terminal: the Node client (node-client.ts) driven by lines of input,
 * its events written as lines (render.ts), and an exit code at the end. `duet start` and
 * `duet join` run it interactively; `duet send` runs it with a fixed list of lines and a
 * deadline, and exits once every message is settled.
 *
 * Settled means what the suite can promise: `delivered` with `modern`, `sent` with `des`
 * (which has no receipts), or `failed`.
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createInterface, clearLine, cursorTo, moveCursor, type Interface } from 'node:readline';
import type { ErrorCode } from '@duet/core/errors';
import type { SuiteId } from '@duet/core/protocol/control';
import { relayUrlOf, type Invitation } from '@duet/core/protocol/share-link';
import type { ConversationEvent } from '@duet/core/session/conversation';
import { isDuetError } from '@duet/core/errors';
import type { FileState, FileView } from '@duet/core/session/file-transfer';
import type { App, FileOptions } from './args.ts';
import { CliError, EXIT, exitCodeFor, type ExitCode } from './exit-codes.ts';
import { mimeOf } from './mime.ts';
import { startNodeClient, type NodeClient } from './node-client.ts';
import { diskSource } from './node-files.ts';
import { passphraseFrom } from './passphrase.ts';
import { describeProblem, renderEvent, renderFileState, renderProgress } from './render.ts';

export interface Io {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

export interface SessionOptions {
  app: App;
  invitation: Invitation;
  passphrase: string;
  io: Io;
  /**
   * Where the lines come from: `stdin` (a chat: a line is a message or a /command, and the end
   * of input means "finish and leave"), or a fixed list of messages (`duet send`).
   */
  input: 'stdin' | string[];
  /** Where the conversation's lines go; `undefined` prints nothing but problems. */
  output: NodeJS.WriteStream | undefined;
  /** Give up after this long once input has ended (exit 6, or 7 if the relay was never reached). */
  timeoutMs: number;
  /** Reconnection delays, for tests. */
  reconnectDelaysMs?: readonly number[];
  /** Files the partner sends: where they go and whether to ask (`modern`; `des` has none). */
  files?: FileOptions;
  /** `duet send-file`: offer these files (no messages); settled once each is done. */
  sendFiles?: string[];
}

const COMMANDS_HELP =
  '* /status shows the state, /retry asks for the passphrase again, /quit leaves; files: /send FILE, /files, /accept N, /decline N, /cancel N';
/** Progress lines for one transfer, at most this often. */
const PROGRESS_EVERY_MS = 1_000;
/** How long leaving waits for what is queued (a last acknowledgement) to go out. */
const SETTLE_BEFORE_LEAVING_MS = 2_000;
const FINISHED: ReadonlySet<FileState> = new Set(['done', 'failed', 'cancelled']);
/** The file commands (other lines starting with / are messages, as before). */
const FILE_COMMAND = /^\/(send|accept|decline|cancel)(\s|$)/;

/** Runs the conversation to its end; resolves with the exit code. */
export function runSession(options: SessionOptions): Promise<ExitCode> {
  return new Promise<ExitCode>((resolve) => {
    void new Session(options, resolve).start();
  });
}

class Session {
  readonly #options: SessionOptions;
  readonly #resolve: (code: ExitCode) => void;
  readonly #suite: SuiteId;
  readonly #interactive: boolean;
  #client: NodeClient | undefined;
  #lines: Interface | undefined;
  /** Outgoing message ids not settled yet, and how many ended `failed`. */
  readonly #unsettled = new Set<number>();
  #failed = 0;
  #inputEnded = false;
  #deadline: NodeJS.Timeout | undefined;
  #failedPassphrase = false;
  #passphrase: string;
  #everSeated = false;
  #done = false;
  /** Transfers by short number (1, 2, …) as the user types them, and what was last shown. */
  readonly #fileNumbers = new Map<string, number>();
  readonly #fileIds: string[] = [];
  readonly #fileShown = new Map<string, { state: FileState; at: number }>();
  /** `send-file`: the files not yet settled; sources to close at the end. */
  readonly #unsettledFiles = new Set<string>();
  readonly #sources: { close(): Promise<void> }[] = [];

  constructor(options: SessionOptions, resolve: (code: ExitCode) => void) {
    this.#options = options;
    this.#resolve = resolve;
    this.#suite = options.invitation.suite;
    this.#interactive = options.input === 'stdin' && options.io.stdin.isTTY === true;
    this.#passphrase = options.passphrase;
  }

  async start(): Promise<void> {
    const { app, invitation, io } = this.#options;
    process.once('SIGINT', this.#onInterrupt);
    try {
      this.#client = await startNodeClient({
        url: relayUrlOf(app),
        room: invitation.room,
        suite: invitation.suite,
        saltHex: invitation.saltHex,
        passphrase: this.#passphrase,
        onEvent: (event) => this.#onEvent(event),
        ...(this.#options.reconnectDelaysMs ? { reconnectDelaysMs: this.#options.reconnectDelaysMs } : {}),
        ...(this.#options.files && invitation.suite === 'modern'
          ? {
              files: {
                dir: this.#options.files.saveTo,
                accept: this.#options.files.acceptAll ? ('all' as const) : ('none' as const),
                maxFileBytes: this.#options.files.maxFileBytes,
                onChange: (view: FileView<string>) => this.#onFile(view),
              },
            }
          : {}),
      });
    } catch {
      this.#finish(EXIT.usage, describeProblem('bad-input'));
      return;
    }
    if (this.#options.sendFiles) {
      for (const path of this.#options.sendFiles) {
        const id = await this.#sendFile(path);
        if (id === undefined) return; // #sendFile finished the session
        this.#unsettledFiles.add(id);
      }
      this.#endOfInput();
    } else if (Array.isArray(this.#options.input)) {
      for (const text of this.#options.input) this.#client.conversation.send(text);
      this.#endOfInput();
    } else {
      this.#readLines(io.stdin);
    }
  }

  #readLines(stdin: NodeJS.ReadStream): void {
    const lines = createInterface({
      input: stdin,
      output: this.#interactive ? this.#options.io.stdout : undefined,
      terminal: this.#interactive,
      prompt: '',
    });
    this.#lines = lines;
    lines.on('line', (line) => void this.#onLine(line));
    lines.on('SIGINT', this.#onInterrupt); // Ctrl-C while the terminal is in raw mode
    lines.on('close', () => {
      if (this.#lines === lines) this.#endOfInput();
    });
  }

  async #onLine(line: string): Promise<void> {
    const conversation = this.#client?.conversation;
    if (!conversation || this.#done) return;
    switch (line.trim()) {
      case '':
        return;
      case '/quit':
        return this.#endOfInput();
      case '/status':
        return this.#print(`* status: ${conversation.status}; unsettled messages: ${this.#unsettled.size}`);
      case '/help':
        return this.#print(COMMANDS_HELP);
      case '/retry':
        return this.#retry();
      case '/files':
        return this.#listFiles();
      default:
        if (FILE_COMMAND.test(line.trim())) return this.#fileCommand(line.trim());
        this.#forgetTypedLine(line);
        conversation.send(line); // shown again as "> #N …", with its number
    }
  }

  /** `/send FILE`, `/accept N`, `/decline N`, `/cancel N`. */
  async #fileCommand(line: string): Promise<void> {
    const [command = '', ...rest] = line.split(/\s+/);
    const argument = line.slice(command.length).trim();
    const files = this.#client?.files;
    if (!files) return this.#print(`${describeProblem('files-unsupported')}`);
    if (command === '/send') {
      if (!argument) return this.#print('* /send needs a file: /send path/to/file');
      await this.#sendFile(argument);
      return;
    }
    const id = this.#fileIds[Number(rest[0]) - 1];
    if (id === undefined) return this.#print(`* no file #${rest[0] ?? ''}; /files lists them`);
    if (command === '/accept') files.accept(id);
    else files.cancel(id); // declining an offer is cancelling it
  }

  /** Offers one file; returns its id, or undefined if it could not be offered (said why). */
  async #sendFile(path: string): Promise<string | undefined> {
    const files = this.#client?.files;
    const oneShot = this.#options.sendFiles !== undefined;
    const refuse = (message: string) => {
      if (oneShot) this.#finish(EXIT.usage, message);
      else this.#print(message);
      return undefined;
    };
    if (!files) return refuse(describeProblem('files-unsupported'));
    let source;
    try {
      if (!(await stat(path)).isFile()) return refuse(`! ${path}: not a file`);
      source = await diskSource(path);
    } catch {
      return refuse(`! ${path}: cannot be read`);
    }
    this.#sources.push(source);
    try {
      return files.send(source, { name: basename(path), mime: mimeOf(path) });
    } catch (error) {
      const code = isDuetError(error) ? error.code : 'bad-input';
      return refuse(describeProblem(code));
    }
  }

  #listFiles(): void {
    if (this.#fileIds.length === 0) return this.#print('* no files yet');
    for (const id of this.#fileIds) {
      const view = this.#client?.fileViews.get(id);
      if (view) this.#print(renderFileState(view, this.#fileNumbers.get(id) ?? 0));
    }
  }

  /** A transfer changed: a line when its state changes, a progress line at most once a second. */
  #onFile(view: FileView<string>): void {
    if (this.#done) return;
    let number = this.#fileNumbers.get(view.id);
    if (number === undefined) {
      this.#fileIds.push(view.id);
      number = this.#fileIds.length;
      this.#fileNumbers.set(view.id, number);
    }
    const shown = this.#fileShown.get(view.id);
    const now = Date.now();
    if (shown?.state !== view.state) {
      this.#fileShown.set(view.id, { state: view.state, at: now });
      const line = renderFileState(view, number);
      this.#print(line);
      if (view.state === 'failed' && this.#options.output === undefined)
        this.#options.io.stderr.write(`${line}\n`);
    } else if (view.state === 'transferring' && now - shown.at >= PROGRESS_EVERY_MS) {
      shown.at = now;
      this.#print(renderProgress(view, number));
      this.#extendDeadline(); // a file still moving is no time-out
    }
    if (FINISHED.has(view.state) && this.#unsettledFiles.delete(view.id)) {
      if (view.state !== 'done') this.#failed += 1;
      queueMicrotask(() => this.#maybeDone());
    }
  }

  /** After a wrong passphrase: ask again (Enter keeps the current one) and retry in place. */
  async #retry(): Promise<void> {
    if (!this.#failedPassphrase || !this.#client) return this.#print('* nothing to retry');
    const lines = this.#lines;
    this.#lines = undefined;
    lines?.close(); // the prompt needs the terminal to itself
    let passphrase: string;
    try {
      passphrase = await passphraseFrom({}, this.#options.io, 'Passphrase (Enter keeps the same): ');
    } catch (error) {
      if (error instanceof CliError && error.exitCode === EXIT.usage) passphrase = this.#passphrase;
      else return this.#finish(EXIT.interrupted);
    } finally {
      this.#readLines(this.#options.io.stdin);
    }
    this.#failedPassphrase = false;
    this.#passphrase = passphrase;
    this.#client.conversation.retry(passphrase);
  }

  #onEvent(event: ConversationEvent): void {
    if (this.#done) return;
    const line = renderEvent(event, this.#suite);
    if (line !== undefined) this.#print(line);
    switch (event.type) {
      case 'outgoing':
        this.#unsettled.add(event.id);
        break;
      case 'delivery':
        if (event.status === 'failed' && this.#unsettled.delete(event.id)) this.#failed += 1;
        if (event.status === (this.#suite === 'des' ? 'sent' : 'delivered')) this.#unsettled.delete(event.id);
        // After this event: a conversation that fails its messages reports why right after.
        queueMicrotask(() => this.#maybeDone());
        break;
      case 'status':
        if (event.status === 'waiting' || event.status === 'handshaking' || event.status === 'ready')
          this.#everSeated = true;
        break;
      case 'problem':
        if (event.fatal) this.#onFatal(event.code);
        break;
      default:
        break;
    }
  }

  #onFatal(code: ErrorCode): void {
    if (code === 'passphrase-mismatch' && this.#interactive && !this.#inputEnded) {
      this.#failedPassphrase = true;
      this.#print('* type /retry to enter the passphrase again, or /quit to leave');
      return;
    }
    // Otherwise the conversation cannot go on; problems go to stderr even when output is quiet.
    if (this.#options.output === undefined) this.#options.io.stderr.write(`${describeProblem(code)}\n`);
    this.#finish(exitCodeFor(code));
  }

  #endOfInput(): void {
    if (this.#inputEnded || this.#done) return;
    this.#inputEnded = true;
    this.#deadline = setTimeout(() => this.#onTimeout(), this.#options.timeoutMs);
    this.#maybeDone();
  }

  #extendDeadline(): void {
    if (!this.#deadline) return;
    clearTimeout(this.#deadline);
    this.#deadline = setTimeout(() => this.#onTimeout(), this.#options.timeoutMs);
  }

  #maybeDone(): void {
    if (!this.#inputEnded || this.#unsettled.size > 0 || this.#unsettledFiles.size > 0 || !this.#client)
      return;
    const what = this.#options.sendFiles ? 'file(s) were not delivered' : 'message(s) could not be sent';
    if (this.#failed > 0) this.#finish(EXIT.error, `! ${this.#failed} ${what}`);
    else this.#finish(EXIT.ok);
  }

  #onTimeout(): void {
    const status = this.#client?.conversation.status;
    if (!this.#everSeated)
      return this.#finish(EXIT.unreachable, '! timed out: the relay could not be reached');
    const waitingFor =
      status === 'waiting'
        ? 'your partner to join'
        : status === 'handshaking'
          ? 'the secure channel (does your partner have the same passphrase?)'
          : status === 'reconnecting'
            ? 'the connection to come back'
            : this.#unsettledFiles.size > 0
              ? `${this.#unsettledFiles.size} file(s) to be delivered`
              : `${this.#unsettled.size} message(s) to be ${this.#suite === 'des' ? 'sent' : 'delivered'}`;
    this.#finish(EXIT.timeout, `! timed out waiting for ${waitingFor}`);
  }

  readonly #onInterrupt = (): void => this.#finish(EXIT.interrupted);

  #finish(code: ExitCode, message?: string): void {
    if (this.#done) return;
    this.#done = true;
    if (message) this.#options.io.stderr.write(`${message}\n`);
    clearTimeout(this.#deadline);
    process.removeListener('SIGINT', this.#onInterrupt);
    const lines = this.#lines;
    this.#lines = undefined;
    lines?.close();
    void this.#leave().then(() => this.#resolve(code));
  }

  /**
   * Lets what is queued go out first (the last acknowledgement of a file, say), then leaves:
   * the seat is freed at once, what is not settled is marked failed (not printed), and a file
   * still being received is thrown away, `.part` file and all.
   */
  async #leave(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, SETTLE_BEFORE_LEAVING_MS)));
    await Promise.race([client.conversation.settled(), grace]).finally(() => clearTimeout(timer));
    client.conversation.leave();
    await client.files?.settled();
    await Promise.all(this.#sources.map((source) => source.close().catch(() => undefined)));
    await client.closed();
  }

  /** On a terminal, the line the user just typed gives way to the numbered one. */
  #forgetTypedLine(line: string): void {
    const output = this.#options.output;
    if (!this.#interactive || !output?.isTTY || line.length >= (output.columns ?? 0)) return;
    moveCursor(output, 0, -1);
    clearLine(output, 0);
  }

  #print(line: string): void {
    const output = this.#options.output;
    if (!output) return;
    if (this.#lines && output.isTTY) {
      // Keep what the user is typing below the new line.
      clearLine(output, 0);
      cursorTo(output, 0);
      output.write(`${line}\n`);
      this.#lines.prompt(true);
    } else {
      output.write(`${line}\n`);
    }
  }
}
