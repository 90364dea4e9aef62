/**
 * The original design's Python code, run by the tests as it is: its clients (alice.py, bob.py
 * on client.py) driven through stdin and stdout, and its crypto functions through a small
 * oracle (seed_oracle.py). Debian's /usr/bin/python3 with `cryptography` and `pycryptodome`
 * (.ci/run installs them).
 *
 * The code comes from `../shared/seed/python` beside the repository when it is there, else from
 * the unchanged copy in server/test/fixtures/seed-python (its README says where it came from).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

export const PYTHON = process.env.SEED_PYTHON ?? '/usr/bin/python3';
const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url));
const SHARED = `${REPOSITORY}../shared/seed/python`;
const VENDORED = fileURLToPath(new URL('../fixtures/seed-python', import.meta.url));
const ORACLE = fileURLToPath(new URL('./seed_oracle.py', import.meta.url));
const WAIT_MS = 30_000;

/** The original's salt, as alice.py and bob.py have it. */
export const SEED_SALT_HEX = '123456789abcdefa1122334455667788';

/** Where the original's Python files are read from. */
export const SEED_PYTHON_DIR = existsSync(`${SHARED}/client.py`) ? SHARED : VENDORED;

const pythonEnv = {
  ...process.env,
  PYTHONDONTWRITEBYTECODE: '1',
  PYTHONUNBUFFERED: '1',
  PYTHONIOENCODING: 'utf-8',
};

/** Why the original cannot run here, or undefined when it can. */
function pythonProblem(): string | undefined {
  const check = spawnSync(
    PYTHON,
    [
      '-c',
      'import cryptography\ntry:\n import Crypto.Cipher.DES\nexcept ImportError:\n import Cryptodome.Cipher.DES',
    ],
    { encoding: 'utf8' },
  );
  if (check.error) return `${PYTHON} cannot run (${check.error.message})`;
  if (check.status !== 0)
    return `${PYTHON} lacks the original's modules (apt-get install python3-cryptography python3-pycryptodome): ${check.stderr.trim().split('\n').pop() ?? ''}`;
  return undefined;
}

/**
 * `describe`, for tests that run the original's Python code. Without Python and its modules
 * they are skipped with a message, except in CI (`CI` set), where that is a failure.
 */
export function describeWithSeedPython(name: string, body: () => void): void {
  const problem = pythonProblem();
  if (problem === undefined) {
    describe(name, body);
    return;
  }
  if (process.env.CI) {
    describe(name, () => {
      it('can run the original Python code', () => {
        throw new Error(`the seed interoperability tests cannot run in CI: ${problem}`);
      });
    });
    return;
  }
  console.warn(`Skipping "${name}": ${problem}`);
  describe.skip(name, body);
}

/** Output lines of a child process, waited on by pattern. */
class Lines {
  readonly all: string[] = [];
  readonly #waiters = new Set<() => void>();

  constructor(stream: NodeJS.ReadableStream) {
    createInterface({ input: stream }).on('line', (line) => {
      this.all.push(line);
      for (const waiter of [...this.#waiters]) waiter();
    });
  }

  /** Resolves with the first line at or after `from` that matches. */
  waitFor(
    pattern: RegExp,
    from = 0,
    describeState: () => string = () => '',
  ): Promise<{ line: string; index: number }> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const index = this.all.findIndex((line, i) => i >= from && pattern.test(line));
        if (index < 0) return false;
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        resolve({ line: this.all[index] ?? '', index });
        return true;
      };
      const waiter = () => void check();
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(
          new Error(`no line matched ${pattern}; output was:\n${this.all.join('\n')}${describeState()}`),
        );
      }, WAIT_MS);
      if (!check()) this.#waiters.add(waiter);
    });
  }
}

/** alice.py or bob.py, run as its listing says, against a gateway on 127.0.0.1:`port`. */
export class SeedClient {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly stdout: Lines;
  readonly stderr: Lines;
  readonly exited: Promise<number | null>;
  /** Where the next `waitForPlaintext` starts looking. */
  #seen = 0;

  constructor(script: 'alice.py' | 'bob.py', options: { port: number; passphrase?: string }) {
    this.#child = spawn(PYTHON, [`${SEED_PYTHON_DIR}/${script}`], {
      env: {
        ...pythonEnv,
        SEED_HOST: '127.0.0.1',
        SEED_PORT: String(options.port),
        SEED_PASS: options.passphrase ?? 'pass',
      },
    });
    this.stdout = new Lines(this.#child.stdout);
    this.stderr = new Lines(this.#child.stderr);
    this.exited = new Promise((resolve) => this.#child.on('close', (code) => resolve(code)));
  }

  /** Resolves once the client is connected and reading its input. */
  async started(): Promise<void> {
    await this.waitFor(/^Start Chatting!$/);
  }

  /** Types one line (one message) on the client's stdin. */
  type(line: string): void {
    this.#child.stdin.write(`${line}\n`);
  }

  /** Ends its input: the client leaves as `exit` or Ctrl-D would make it. */
  endInput(): void {
    this.#child.stdin.end();
  }

  kill(): void {
    if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
  }

  waitFor(pattern: RegExp, from = 0): Promise<{ line: string; index: number }> {
    return this.stdout.waitFor(pattern, from, () => `\nstderr:\n${this.stderr.all.join('\n')}`);
  }

  /** The next message the client decrypted and printed, after the previous one. */
  async nextPlaintext(): Promise<string> {
    const { line, index } = await this.waitFor(/^Plaintext from Client: /, this.#seen);
    this.#seen = index + 1;
    return line.slice('Plaintext from Client: '.length);
  }
}

/** The original's derive_key, message_encrypt and message_decrypt, asked one request at a time. */
export class SeedCrypto {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #answers: Lines;
  #asked = 0;
  #queue: Promise<unknown> = Promise.resolve();

  constructor() {
    this.#child = spawn(PYTHON, [ORACLE, SEED_PYTHON_DIR], { env: pythonEnv });
    this.#answers = new Lines(this.#child.stdout);
  }

  /** message_encrypt(derive_key(passphrase, salt), text): IV ‖ ciphertext, as the original sends it. */
  async encrypt(passphrase: string, saltHex: string, text: string): Promise<Buffer> {
    const answer = await this.#ask({
      op: 'encrypt',
      passphrase: hex(passphrase),
      salt: saltHex,
      text: hex(text),
    });
    if (!answer.ok || answer.frame === undefined) throw new Error(`message_encrypt failed: ${answer.error}`);
    return Buffer.from(answer.frame, 'hex');
  }

  /** message_decrypt(derive_key(passphrase, salt), frame): the text, or the original's error. */
  async decrypt(
    passphrase: string,
    saltHex: string,
    frame: Uint8Array,
  ): Promise<{ text: string } | { error: string }> {
    const answer = await this.#ask({
      op: 'decrypt',
      passphrase: hex(passphrase),
      salt: saltHex,
      frame: Buffer.from(frame).toString('hex'),
    });
    if (!answer.ok) return { error: answer.error ?? '' };
    return { text: Buffer.from(answer.text ?? '', 'hex').toString('utf8') };
  }

  close(): void {
    this.#child.stdin.end();
  }

  #ask(request: object): Promise<{ ok: boolean; frame?: string; text?: string; error?: string }> {
    const next = this.#queue.then(async () => {
      const index = this.#asked++;
      this.#child.stdin.write(`${JSON.stringify(request)}\n`);
      const { line } = await this.#answers.waitFor(/^\{/, index);
      return JSON.parse(line) as { ok: boolean; frame?: string; text?: string; error?: string };
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }
}

function hex(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}
