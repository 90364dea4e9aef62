/**
 * A command run to its end, with what it wrote, for tests that only need its outcome. The child
 * is killed when the test that started it ends, also when the test ends by its timeout (a hung
 * child must not outlive it).
 */
import { spawn } from 'node:child_process';
import { onTestFinished } from 'vitest';

export interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runToEnd(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Ended> {
  const child = spawn(command, args, { env });
  onTestFinished(() => void child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
