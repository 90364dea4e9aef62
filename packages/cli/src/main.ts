/**
 * `duet`: Duet in a terminal, on the same Conversation as the web app. This file only reads
 * the command line and hands over: args.ts parses, session.ts runs the conversation.
 */
import { generatePassphrase, generateRoomCode } from '@duet/core/protocol/codes';
import { shareLink, type Invitation } from '@duet/core/protocol/share-link';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { HELP, parseCommand, type App, type Command, type FileOptions } from './args.ts';
import { CliError, EXIT, type ExitCode } from './exit-codes.ts';
import { PASSPHRASE_VARIABLE, passphraseFrom } from './passphrase.ts';
import { runSession, type Io } from './session.ts';

const processIo: Io = {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
};

/** Runs `duet` with these arguments; resolves with the exit code. */
export async function run(argv: readonly string[], io: Io = processIo): Promise<ExitCode> {
  try {
    return await runCommand(parseCommand(argv, io.env), io);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    io.stderr.write(`duet: ${error.message}\n`);
    return error.exitCode;
  }
}

async function runCommand(command: Command, io: Io): Promise<ExitCode> {
  switch (command.kind) {
    case 'help':
      io.stdout.write(HELP[command.topic]);
      return EXIT.ok;
    case 'start':
      return start(
        command.app,
        { room: generateRoomCode(), suite: command.suite, saltHex: command.saltHex },
        command.files,
        io,
      );
    case 'join':
      return chat(command.app, command.invitation, await passphraseFrom(io.env, io), command.files, io);
    case 'send': {
      const texts = command.texts.length > 0 ? command.texts : await stdinLines(io.stdin);
      if (texts.length === 0) throw new CliError(EXIT.usage, 'nothing to send: give a TEXT or pipe lines in');
      return sendAndLeave(command, io, { input: texts });
    }
    case 'send-file': {
      await checkFiles(command.paths, command.maxFileBytes);
      return sendAndLeave(command, io, {
        input: [],
        files: { saveTo: '.', acceptAll: false, maxFileBytes: command.maxFileBytes },
        sendFiles: command.paths,
      });
    }
    default: {
      const never: never = command;
      throw new Error(`unhandled command ${String(never)}`);
    }
  }
}

/** `send` and `send-file`: one session that sends what it is given, then leaves. */
async function sendAndLeave(
  command: Extract<Command, { kind: 'send' | 'send-file' }>,
  io: Io,
  what: Pick<Parameters<typeof runSession>[0], 'input' | 'files' | 'sendFiles'>,
): Promise<ExitCode> {
  const passphrase = await passphraseFrom(io.env, io);
  return runSession({
    app: command.app,
    invitation: command.invitation,
    passphrase,
    io,
    output: command.verbose ? io.stderr : undefined,
    timeoutMs: command.timeoutMs,
    ...what,
  });
}

/** A new room: print what the partner needs, then chat as its first person. */
async function start(app: App, invitation: Invitation, files: FileOptions, io: Io): Promise<ExitCode> {
  const fromEnv = io.env[PASSPHRASE_VARIABLE];
  const passphrase = fromEnv ? fromEnv : generatePassphrase();
  io.stdout.write(
    [
      `Room:       ${invitation.room} (${invitation.suite})`,
      `Share link: ${shareLink(app, invitation)}`,
      fromEnv ? `Passphrase: (from ${PASSPHRASE_VARIABLE})` : `Passphrase: ${passphrase}`,
      'Send your partner the link. Tell them the passphrase another way (in person, by phone).',
      '',
    ].join('\n'),
  );
  return chat(app, invitation, passphrase, files, io);
}

async function chat(
  app: App,
  invitation: Invitation,
  passphrase: string,
  files: FileOptions,
  io: Io,
): Promise<ExitCode> {
  await checkFolder(files.saveTo);
  return runSession({
    app,
    invitation,
    passphrase,
    io,
    input: 'stdin',
    output: io.stdout,
    timeoutMs: 120_000,
    files,
  });
}

/** Before connecting: every file to send exists, is a file, and is not over the limit. */
async function checkFiles(paths: readonly string[], maxFileBytes: number): Promise<void> {
  for (const path of paths) {
    let size: number;
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new CliError(EXIT.usage, `${path}: not a file`);
      size = info.size;
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(EXIT.usage, `${path}: no such file, or it cannot be read`);
    }
    if (size > maxFileBytes)
      throw new CliError(EXIT.usage, `${path}: too large (${size} bytes; the limit is ${maxFileBytes})`);
  }
}

/** The folder received files go to must exist and be writable. */
async function checkFolder(dir: string): Promise<void> {
  try {
    await access(dir, constants.W_OK);
    if (!(await stat(dir)).isDirectory()) throw new Error('not a folder');
  } catch {
    throw new CliError(EXIT.usage, `--save-to ${dir}: not a folder this user can write to`);
  }
}

/** Every non-empty line of stdin, once it ends. */
async function stdinLines(stdin: NodeJS.ReadStream): Promise<string[]> {
  if (stdin.isTTY) throw new CliError(EXIT.usage, 'nothing to send: give a TEXT or pipe lines in');
  let text = '';
  stdin.setEncoding('utf8');
  for await (const chunk of stdin) text += chunk as string;
  return text.split(/\r?\n/).filter((line) => line.trim() !== '');
}
