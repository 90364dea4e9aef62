/**
 * The command line: `duet start | join | send`, parsed with Node's `util.parseArgs`, and the
 * help for each command. Pure: no I/O, so every form is tested without a process.
 */
import { parseArgs } from 'node:util';
import { SUITE_IDS, type SuiteId } from '@duet/core/protocol/control';
import { parseShareLink, SALT_HEX, type Invitation } from '@duet/core/protocol/share-link';
import { CliError, EXIT } from './exit-codes.ts';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
export const DEFAULT_TIMEOUT_SECONDS = 120;
/** 2 GiB, as in the web app: the largest file sent or accepted unless --max-file-size says. */
export const DEFAULT_MAX_FILE_BYTES = 2 * 1024 ** 3;

export interface App {
  origin: string;
  pathname: string;
}

/** How a chat handles files its partner offers (`modern` only). */
export interface FileOptions {
  /** The folder received files are saved in. */
  saveTo: string;
  /** Accept every offer at once, or ask (`/accept N`). */
  acceptAll: boolean;
  maxFileBytes: number;
}

export type Command =
  | { kind: 'help'; topic: 'duet' | 'start' | 'join' | 'send' | 'send-file' }
  | { kind: 'start'; app: App; suite: SuiteId; saltHex: string; files: FileOptions }
  | { kind: 'join'; app: App; invitation: Invitation; files: FileOptions }
  | { kind: 'send'; app: App; invitation: Invitation; timeoutMs: number; verbose: boolean; texts: string[] }
  | {
      kind: 'send-file';
      app: App;
      invitation: Invitation;
      timeoutMs: number;
      verbose: boolean;
      paths: string[];
      maxFileBytes: number;
    };

const EXIT_CODES = `Exit codes:
  0    done (${'`send`'}: every message delivered, or sent for des)
  1    another error (the message says which)
  2    bad usage: unknown option, malformed share link, no passphrase, nothing to send
  3    wrong passphrase (modern only: des cannot tell)
  4    the room is full
  5    the room uses the other suite
  6    timed out (send)
  7    the relay cannot be reached
  130  interrupted (Ctrl-C)`;

export const HELP: Record<Extract<Command, { kind: 'help' }>['topic'], string> = {
  duet: `Duet in a terminal: end-to-end encrypted chat with one other person.

Usage:
  duet start [--url URL] [--suite modern|des] [--salt HEX]
  duet join <share link>
  duet send <share link> [--timeout SECONDS] [--verbose] [TEXT...]
  duet send-file <share link> [--timeout SECONDS] [--verbose] FILE...

Commands:
  start      create a room, print its share link and a passphrase, and chat
  join       join the room of a share link and chat
  send       send lines (stdin, or TEXT), wait until they are delivered, and exit
  send-file  send files, wait until your partner has each one, verified, and exit

Run "duet <command> --help" for a command's options.

${EXIT_CODES}
`,
  start: `Usage: duet start [--url URL] [--suite modern|des] [--salt HEX]

Creates a room on the relay at URL, prints its share link and a generated passphrase, and
waits for your partner. Send them the link; tell them the passphrase another way.

Options:
  --url URL        the Duet server (default: $DUET_URL, else ${DEFAULT_URL})
  --suite SUITE    modern (default) or des, the original design's weak suite
  --salt HEX       des only: the PBKDF2 salt, in hex (default: derived from the room code);
                   the original's is 123456789abcdefa1122334455667788
  --save-to DIR    where files your partner sends are saved (default: the current folder)
  --accept-files   accept every file your partner offers, without asking
  --max-file-size SIZE  refuse files larger than SIZE (bytes, or with K, M or G; default 2G)
  -h, --help       this help

Environment:
  DUET_PASSPHRASE  use this passphrase instead of generating one

In the chat, every line you type is a message. /status shows the state, /quit leaves
(so does Ctrl-D). Lines: "< " your partner, "> #N " yours, "* " status, "! " problems.

Files (modern only): your partner's files are saved in the current folder (--save-to DIR),
never over a file that is there, and only once their SHA-256 matched. You are asked for each
one (/accept N, /decline N) unless you gave --accept-files. /send FILE offers a file,
/cancel N stops a transfer, /files lists them.

${EXIT_CODES}
`,
  join: `Usage: duet join <share link> [--suite modern|des] [--salt HEX]

Joins the room of a share link (http://host:port/#room…) and chats. Asks for the passphrase
without echoing it, or reads DUET_PASSPHRASE.

Options:
  --suite SUITE    for a link that does not say: modern (default) or des
  --salt HEX       for a des link that does not say: the PBKDF2 salt, in hex
  --save-to DIR    where files your partner sends are saved (default: the current folder)
  --accept-files   accept every file your partner offers, without asking
  --max-file-size SIZE  refuse files larger than SIZE (bytes, or with K, M or G; default 2G)
  -h, --help       this help

Environment:
  DUET_PASSPHRASE  the passphrase, for scripts (else you are asked)

In the chat, every line you type is a message. /status shows the state, /quit leaves
(so does Ctrl-D). Lines: "< " your partner, "> #N " yours, "* " status, "! " problems.

Files (modern only): your partner's files are saved in the current folder (--save-to DIR),
never over a file that is there, and only once their SHA-256 matched. You are asked for each
one (/accept N, /decline N) unless you gave --accept-files. /send FILE offers a file,
/cancel N stops a transfer, /files lists them.

${EXIT_CODES}
`,
  send: `Usage: duet send <share link> [--timeout SECONDS] [--verbose] [TEXT...]

Joins the room, sends TEXT as one message (or, without TEXT, every non-empty line of stdin
as one message each), waits until each is delivered (modern) or sent (des: it cannot confirm
delivery), leaves, and exits 0. Example: echo hi | duet send 'http://127.0.0.1:8080/#k3mq-8vth-x2pe'

Options:
  --timeout SECONDS  give up (exit 6) after this long (default ${DEFAULT_TIMEOUT_SECONDS})
  --verbose          print the conversation's lines on stderr
  --suite SUITE      for a link that does not say: modern (default) or des
  --salt HEX         for a des link that does not say: the PBKDF2 salt, in hex
  -h, --help         this help

Environment:
  DUET_PASSPHRASE    the passphrase, for scripts (else you are asked on the terminal)

${EXIT_CODES}
`,
  'send-file': `Usage: duet send-file <share link> [--timeout SECONDS] [--verbose] FILE...

Joins the room (modern only: des carries no files), offers each FILE to your partner, and
waits until your partner has each one whole (its SHA-256 checked on their side), then leaves
and exits 0. A file your partner declines or cancels, or that fails, makes it exit 1. Files
are read from disk a slice at a time, and a link that drops resumes where it stopped.
Example: duet send-file 'http://127.0.0.1:8080/#k3mq-8vth-x2pe' report.pdf photo.jpg

Options:
  --timeout SECONDS     give up (exit 6) after this long without progress (default ${DEFAULT_TIMEOUT_SECONDS})
  --verbose             print the conversation's lines, and each file's progress, on stderr
  --max-file-size SIZE  refuse to send files larger than SIZE (default 2G)
  -h, --help            this help

Environment:
  DUET_PASSPHRASE    the passphrase, for scripts (else you are asked on the terminal)

${EXIT_CODES}
`,
};

const usage = (message: string) => new CliError(EXIT.usage, `${message} (see duet --help)`);

/** Parses `duet`'s arguments (without node and the script). Throws CliError(usage). */
export function parseCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Command {
  const [name, ...rest] = argv;
  switch (name) {
    case undefined:
    case 'help':
    case '-h':
    case '--help':
      return { kind: 'help', topic: 'duet' };
    case 'start':
      return parseStart(rest, env);
    case 'join':
    case 'send':
    case 'send-file':
      return parseJoinOrSend(name, rest);
    default:
      throw usage(`unknown command "${name}"`);
  }
}

/** Runs `util.parseArgs`, turning its errors (unknown option, missing value) into usage errors. */
function safely<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw usage(error instanceof Error ? error.message : String(error));
  }
}

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;
const SUITE_OPTIONS = { suite: { type: 'string' }, salt: { type: 'string' } } as const;
const FILE_OPTIONS = {
  'save-to': { type: 'string' },
  'accept-files': { type: 'boolean' },
  'max-file-size': { type: 'string' },
} as const;

function parseStart(args: readonly string[], env: NodeJS.ProcessEnv): Command {
  const { values, positionals } = safely(() =>
    parseArgs({
      args: [...args],
      options: { ...HELP_OPTION, ...SUITE_OPTIONS, ...FILE_OPTIONS, url: { type: 'string' } },
      allowPositionals: true,
    }),
  );
  if (values.help) return { kind: 'help', topic: 'start' };
  if (positionals.length > 0) throw usage(`unexpected argument "${positionals[0]}"`);
  const suite = suiteOf(values.suite) ?? 'modern';
  return {
    kind: 'start',
    app: appOf(values.url ?? env.DUET_URL ?? DEFAULT_URL),
    suite,
    saltHex: saltOf(values.salt, suite),
    files: fileOptionsOf(values),
  };
}

function parseJoinOrSend(name: 'join' | 'send' | 'send-file', args: readonly string[]): Command {
  const { values, positionals } = safely(() =>
    parseArgs({
      args: [...args],
      options: {
        ...HELP_OPTION,
        ...SUITE_OPTIONS,
        ...FILE_OPTIONS,
        timeout: { type: 'string' },
        verbose: { type: 'boolean' },
      },
      allowPositionals: true,
    }),
  );
  if (values.help) return { kind: 'help', topic: name };
  if (name === 'join' && (values.timeout !== undefined || values.verbose !== undefined))
    throw usage(`--${values.timeout !== undefined ? 'timeout' : 'verbose'} is for duet send`);
  if (name !== 'join' && (values['save-to'] !== undefined || values['accept-files'] !== undefined))
    throw usage(
      `--${values['save-to'] !== undefined ? 'save-to' : 'accept-files'} is for duet join and start`,
    );
  if (name === 'send' && values['max-file-size'] !== undefined)
    throw usage('--max-file-size is for duet join, start and send-file');
  const [link, ...texts] = positionals;
  if (link === undefined) throw usage('a share link is needed');
  if (name === 'join' && texts.length > 0) throw usage(`unexpected argument "${texts[0]}"`);
  const parsed = parseShareLink(link);
  if (parsed.kind !== 'invitation')
    throw usage('that is not a Duet share link (http://host:port/#room-code, as duet start prints it)');
  const invitation = withOverrides(
    parsed.invitation,
    link,
    values.suite as string | undefined,
    values.salt as string | undefined,
  );
  if (name === 'join') return { kind: 'join', app: parsed.app, invitation, files: fileOptionsOf(values) };
  if (name === 'send-file') {
    if (invitation.suite === 'des') throw usage('des carries no files (no integrity): use a modern room');
    if (texts.length === 0) throw usage('a FILE to send is needed');
    return {
      kind: 'send-file',
      app: parsed.app,
      invitation,
      timeoutMs: timeoutOf(values.timeout),
      verbose: values.verbose === true,
      paths: texts,
      maxFileBytes: sizeOf(values['max-file-size']),
    };
  }
  return {
    kind: 'send',
    app: parsed.app,
    invitation,
    timeoutMs: timeoutOf(values.timeout),
    verbose: values.verbose === true,
    texts: texts.length > 0 ? [texts.join(' ')] : [],
  };
}

/** `--suite` and `--salt` fill in what a link does not say; they may not contradict it. */
function withOverrides(
  invitation: Invitation,
  link: string,
  suiteFlag?: string,
  saltFlag?: string,
): Invitation {
  const saysSuite = /[#&]suite=/i.test(link.slice(link.indexOf('#')));
  const suite = suiteOf(suiteFlag);
  if (suite !== undefined && saysSuite && suite !== invitation.suite)
    throw usage(`the link is for a ${invitation.suite} room, not ${suite}`);
  const effectiveSuite = suite ?? invitation.suite;
  const salt = saltOf(saltFlag, effectiveSuite);
  if (salt && invitation.saltHex && salt !== invitation.saltHex) throw usage('the link names another salt');
  return { room: invitation.room, suite: effectiveSuite, saltHex: salt || invitation.saltHex };
}

function suiteOf(value: string | undefined): SuiteId | undefined {
  if (value === undefined) return undefined;
  if (!(SUITE_IDS as readonly string[]).includes(value))
    throw usage(`--suite must be ${SUITE_IDS.join(' or ')}`);
  return value as SuiteId;
}

function saltOf(value: string | undefined, suite: SuiteId): string {
  if (value === undefined) return '';
  if (suite !== 'des') throw usage('--salt is for the des suite only');
  const hex = value.toLowerCase();
  if (!SALT_HEX.test(hex)) throw usage('--salt must be 1 to 64 bytes of hex');
  return hex;
}

function appOf(value: string): App {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usage(`--url is not a URL: "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usage('--url must be http:// or https://');
  return { origin: url.origin, pathname: url.pathname };
}

function fileOptionsOf(values: {
  'save-to'?: string;
  'accept-files'?: boolean;
  'max-file-size'?: string;
}): FileOptions {
  const saveTo = values['save-to'] ?? '.';
  if (saveTo === '') throw usage('--save-to needs a folder');
  return {
    saveTo,
    acceptAll: values['accept-files'] === true,
    maxFileBytes: sizeOf(values['max-file-size']),
  };
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `--max-file-size`: bytes, or a number with K, M or G (KiB, MiB, GiB). */
function sizeOf(value: string | undefined): number {
  if (value === undefined) return DEFAULT_MAX_FILE_BYTES;
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?$/i.exec(value.trim());
  const bytes = match ? Math.floor(Number(match[1]) * (SIZE_UNITS[match[2]!.toLowerCase()] ?? 1)) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0)
    throw usage('--max-file-size must be a size: bytes, or a number with K, M or G (500M, 2G)');
  return bytes;
}

function timeoutOf(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TIMEOUT_SECONDS * 1000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw usage('--timeout must be a number of seconds above 0');
  return Math.round(seconds * 1000);
}
