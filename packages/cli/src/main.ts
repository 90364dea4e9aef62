/**
 * `duet`: Duet in a terminal, on the same Conversation as the web app. This file only reads
 * the command line and hands over: args.ts parses, session.ts runs the conversation.
 */
import { generatePassphrase, generateRoomCode } from '@duet/core/protocol/codes';
import { shareLink, type Invitation } from '@duet/core/protocol/share-link';
import { HELP, parseCommand, type App, type Command } from './args.ts';
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
        io,
      );
    case 'join':
      return chat(command.app, command.invitation, await passphraseFrom(io.env, io), io);
    case 'send': {
      const texts = command.texts.length > 0 ? command.texts : await stdinLines(io.stdin);
      if (texts.length === 0) throw new CliError(EXIT.usage, 'nothing to send: give a TEXT or pipe lines in');
      const passphrase = await passphraseFrom(io.env, io);
      return runSession({
        app: command.app,
        invitation: command.invitation,
        passphrase,
        io,
        input: texts,
        output: command.verbose ? io.stderr : undefined,
        timeoutMs: command.timeoutMs,
      });
    }
    default: {
      const never: never = command;
      throw new Error(`unhandled command ${String(never)}`);
    }
  }
}

/** A new room: print what the partner needs, then chat as its first person. */
async function start(app: App, invitation: Invitation, io: Io): Promise<ExitCode> {
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
  return chat(app, invitation, passphrase, io);
}

function chat(app: App, invitation: Invitation, passphrase: string, io: Io): Promise<ExitCode> {
  return runSession({
    app,
    invitation,
    passphrase,
    io,
    input: 'stdin',
    output: io.stdout,
    timeoutMs: 120_000,
  });
}

/** Every non-empty line of stdin, once it ends. */
async function stdinLines(stdin: NodeJS.ReadStream): Promise<string[]> {
  if (stdin.isTTY) throw new CliError(EXIT.usage, 'nothing to send: give a TEXT or pipe lines in');
  let text = '';
  stdin.setEncoding('utf8');
  for await (const chunk of stdin) text += chunk as string;
  return text.split(/\r?\n/).filter((line) => line.trim() !== '');
}
