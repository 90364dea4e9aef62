/**
 * What the terminal shows, one line per event, with a prefix that says what the line is:
 *
 *   < text         a message from your partner
 *   > #3 text      your message number 3, as it was queued
 *   * …            status: connection, partner, delivery states (`* #3 delivered`)
 *   ! code: …      a problem, with its stable error code
 *
 * Text from the partner is shown as text, never as terminal commands: control characters
 * (escape sequences, line breaks that would fake a line of ours) and bidirectional overrides
 * are written as visible escapes (`\x1b`, `\n`, `\u202e`).
 */
import type { ErrorCode } from '@duet/core/errors';
import type { SuiteId } from '@duet/core/protocol/control';
import type { ConversationEvent, ConversationStatus } from '@duet/core/session/conversation';
import { safetyCodeWords } from '@duet/core/protocol/words';
import { formatBytes } from '@duet/core/format';
import type { FileView } from '@duet/core/session/file-transfer';

// C0 controls but tab, DEL, C1 controls, and the bidirectional embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/gu;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r' };

/** `text` with every character that could act on the terminal written as a visible escape. */
export function escapeText(text: string): string {
  return text.replace(UNSAFE, (char) => {
    const named = NAMED[char];
    if (named) return named;
    const code = char.codePointAt(0) ?? 0;
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

const STATUS_LINES: Record<ConversationStatus, (suite: SuiteId) => string> = {
  connecting: () => '* connecting to the relay',
  waiting: () => '* in the room: waiting for your partner',
  handshaking: (suite) =>
    suite === 'modern' ? '* partner here: checking that your passphrases match' : '* partner here',
  ready: (suite) =>
    suite === 'modern'
      ? '* secure channel ready: type a line and press Enter to send it'
      : '* ready (des: weak, no integrity, cannot confirm delivery): type a line and press Enter',
  reconnecting: () => '* connection lost: reconnecting',
  closed: () => '* closed',
  failed: () => '* no secure channel',
};

const PROBLEMS: Partial<Record<ErrorCode, string>> = {
  'passphrase-mismatch': 'your passphrase does not match your partner’s; nothing was sent',
  'decrypt-failed': 'a message could not be decrypted (another passphrase or salt?)',
  tampered: 'a message was altered on the way and was rejected',
  replayed: 'a message arrived again (a replay or a reflection) and was dropped',
  'bad-frame': 'a malformed message was rejected',
  'room-full': 'this room already has two people',
  'suite-mismatch': 'your partner’s room uses the other suite',
  'connection-lost': 'the relay cannot be reached',
  'rate-limited': 'too many messages or attempts: slow down',
  'server-busy': 'the relay is at capacity; try again later',
  'handshake-failed': 'the secure handshake failed',
  'too-large': 'that message is too large',
  'bad-input': 'that input is not valid (a message may be too long)',
  'files-unsupported': 'des carries no files',
  'transfer-lost': 'your partner no longer has this transfer (their page or client restarted)',
  'transfer-failed': 'your partner could not read, store or take the file',
  'file-read-failed': 'the file could not be read (was it changed or removed?)',
  'file-write-failed': 'the file could not be saved (is the disk full or the folder read-only?)',
};

/** A sentence for an error code, for the terminal. */
export function describeProblem(code: ErrorCode): string {
  return `! ${code}: ${PROBLEMS[code] ?? 'something went wrong'}`;
}

/** The line for one conversation event, or undefined for events that need none. */
export function renderEvent(event: ConversationEvent, suite: SuiteId): string | undefined {
  switch (event.type) {
    case 'status':
      return STATUS_LINES[event.status](suite);
    case 'partner':
      return event.state === 'present'
        ? '* partner is in the room'
        : event.state === 'away'
          ? '* partner’s connection dropped: their seat is held for them'
          : '* partner is not in the room';
    case 'outgoing':
      return `> #${event.id} ${escapeText(event.text)}`;
    case 'delivery':
      return `* #${event.id} ${event.status}`;
    case 'incoming':
      return `< ${escapeText(event.text)}`;
    case 'problem':
      return describeProblem(event.code);
    case 'safety-code':
      return `* safety code: ${safetyCodeWords(event.code).join(' ')} (compare it with your partner by voice)`;
    case 'partner-retried':
      return '* your partner tried again with another passphrase';
    case 'partner-refused':
      return `* someone tried to join this room with the ${event.suite} suite and was refused`;
    case 'path':
    case 'partner-direct':
      return undefined; // the terminal client has no direct path: always the relay
    default: {
      const never: never = event;
      return `* ${String((never as { type: string }).type)}`;
    }
  }
}

/** How far a transfer is: `45 % of 20.0 MiB, 3.10 MiB/s, 4 s left`. */
export function renderProgress(view: FileView<string>, number: number): string {
  const percent = view.size === 0 ? 100 : Math.floor((100 * view.bytes) / view.size);
  const speed = view.bytesPerSecond === undefined ? '' : `, ${formatBytes(view.bytesPerSecond)}/s`;
  const left = view.secondsLeft === undefined ? '' : `, ${Math.ceil(view.secondsLeft)} s left`;
  return `* file #${number} ${percent} % of ${formatBytes(view.size)}${speed}${left}`;
}

/** The line for a transfer that has just reached `view.state`; `number` is its short number. */
export function renderFileState(view: FileView<string>, number: number): string {
  const name = `"${escapeText(view.name)}" (${formatBytes(view.size)}${view.mime ? `, ${escapeText(view.mime)}` : ''})`;
  const incoming = view.direction === 'in';
  switch (view.state) {
    case 'offered':
      return incoming
        ? `* file #${number} offered by your partner: ${name}; /accept ${number} or /decline ${number}`
        : `* file #${number} offered: ${name}; waiting for your partner to accept`;
    case 'transferring':
      return `* file #${number} ${incoming ? 'receiving' : 'sending'} ${name}`;
    case 'done':
      return incoming
        ? `* file #${number} saved as ${escapeText(view.result ?? '')} (SHA-256 checked)`
        : `* file #${number} delivered: your partner has it, checked`;
    case 'cancelled':
      if (view.cancelledBy === 'partner')
        return `* file #${number} ${view.declined ? 'declined' : 'cancelled'} by your partner`;
      return `* file #${number} ${view.declined ? 'declined' : 'cancelled'}`;
    case 'failed':
      return `${describeProblem(view.code ?? 'transfer-failed')} (file #${number})`;
    default: {
      const never: never = view.state;
      return `* file #${number} ${String(never)}`;
    }
  }
}
