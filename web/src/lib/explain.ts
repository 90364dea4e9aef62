/** Human sentences for error codes. The UI never shows a DuetError's developer message. */
import type { ErrorCode } from '@duet/core/errors';

const SENTENCES: Partial<Record<ErrorCode, string>> = {
  'room-full':
    'This room already has two people in it. Check the link or code, or leave and start a conversation of your own.',
  'suite-mismatch':
    'Your partner’s page uses the other encryption suite, or another version of Duet. If you both picked the same suite, one page is out of date: both of you reload the page, then join again.',
  'decrypt-failed':
    'A message could not be decrypted. Your partner may be using another passphrase (or salt): check that you typed the same one.',
  'passphrase-mismatch':
    'The passphrases do not match: no secure channel was set up and nothing was sent. Agree on the passphrase again and retry.',
  tampered: 'A message was altered on the way and was rejected. The conversation goes on.',
  replayed: 'A message arrived twice (a replay) and was rejected. The conversation goes on.',
  'bad-frame': 'A malformed message was rejected. The conversation goes on.',
  'connection-lost':
    'The connection to the relay was lost. Duet reconnects by itself and sends again whatever your partner has not confirmed.',
  'resume-failed': 'Your seat in the room had expired; Duet joined the room again.',
  'server-busy': 'The relay is at capacity right now. Try again in a little while.',
  'rate-limited': 'Too many attempts or messages for now: the relay asks Duet to wait.',
  'too-large': 'That message is too large to send.',
  'bad-room': 'That room code is not valid: use letters, digits and hyphens (3 to 64 characters).',
  'bad-suite': 'That encryption suite is not known to the relay.',
  'no-partner': 'Your partner is not in the room right now.',
  'bad-input': 'That input is not valid.',
  'handshake-failed': 'The secure handshake failed. Try again.',
  'bad-point':
    'The secure handshake received an invalid value and stopped. Try again; if it happens again, someone may be tampering with the connection.',
};

export function explain(code: ErrorCode): string {
  return SENTENCES[code] ?? `Something went wrong (${code}).`;
}

/** Why a file failed, said about the file (the codes mean something else for a message). */
const FILE_SENTENCES: Partial<Record<ErrorCode, string>> = {
  tampered:
    'What arrived does not match the file’s checksum (SHA-256), so it was thrown away. Try sending it again.',
  'too-large': 'It is larger than the other side accepts.',
  'transfer-lost': 'Your partner no longer has this transfer (their page was reloaded). Send it again.',
  'transfer-failed': 'Your partner could not read, receive or store it.',
  'file-read-failed': 'The file could not be read. Was it moved or changed? Pick it again.',
  'file-write-failed': 'The file could not be stored on this device.',
  'connection-lost': 'The connection was lost for good before it was complete.',
  'files-unsupported': 'Files need the modern suite.',
};

export function explainFile(code: ErrorCode): string {
  return FILE_SENTENCES[code] ?? explain(code);
}
