/**
 * Where the passphrase comes from: `DUET_PASSPHRASE` for scripts, else a prompt on the
 * terminal that does not echo what is typed. The passphrase is never an argument (other users
 * can read a process's arguments) and never printed, except the one `duet start` generates.
 */
import { openSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { read } from 'read';
import { CliError, EXIT } from './exit-codes.ts';

export const PASSPHRASE_VARIABLE = 'DUET_PASSPHRASE';

export interface PromptStreams {
  stdin: NodeJS.ReadStream;
  stderr: NodeJS.WriteStream;
}

/** The passphrase from the environment, or asked on the terminal (even when stdin is a pipe). */
export async function passphraseFrom(
  env: NodeJS.ProcessEnv,
  streams: PromptStreams,
  prompt = 'Passphrase: ',
): Promise<string> {
  const fromEnv = env[PASSPHRASE_VARIABLE];
  if (fromEnv !== undefined) return checked(fromEnv);
  const terminal = streams.stdin.isTTY ? { input: streams.stdin, opened: false } : openTerminal();
  if (!terminal)
    throw new CliError(EXIT.usage, `no passphrase: run this at a terminal, or set ${PASSPHRASE_VARIABLE}`);
  try {
    const typed = await read({
      prompt,
      silent: true,
      replace: '',
      input: terminal.input,
      output: streams.stderr,
    });
    streams.stderr.write('\n'); // Enter was not echoed either
    return checked(String(typed));
  } catch (error) {
    if (error instanceof CliError) throw error;
    // `read` rejects with "canceled" on Ctrl-C.
    throw new CliError(EXIT.interrupted, 'interrupted');
  } finally {
    if (terminal.opened) terminal.input.destroy();
  }
}

function checked(passphrase: string): string {
  if (passphrase.length === 0) throw new CliError(EXIT.usage, 'the passphrase is empty');
  return passphrase;
}

/** The controlling terminal, when stdin is a pipe (`echo hi | duet send …`); none in CI. */
function openTerminal(): { input: NodeJS.ReadStream; opened: true } | undefined {
  try {
    return { input: new ReadStream(openSync('/dev/tty', 'r')), opened: true };
  } catch {
    return undefined;
  }
}
