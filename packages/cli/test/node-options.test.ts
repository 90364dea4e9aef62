/**
 * The `duet` command runs with src/node-options.ts's options however it is started: the bin's
 * first line (run directly, or through npm's link to it) and the root `npm run duet` script each
 * spell them out, because Node reads them before any of Duet's code runs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CLIENT_NODE_OPTIONS } from '../src/node-options.ts';
import { runToEnd } from './support/run-to-end.ts';

const BIN = fileURLToPath(new URL('../bin/duet.mjs', import.meta.url));
const ROOT_PACKAGE = fileURLToPath(new URL('../../../package.json', import.meta.url));
const OPTIONS = CLIENT_NODE_OPTIONS.join(' ');

describe("the duet command's Node options", () => {
  it('are on the first line of the bin, for the command run directly', () => {
    const firstLine = readFileSync(BIN, 'utf8').split('\n')[0];
    expect(firstLine).toBe(`#!/usr/bin/env -S node ${OPTIONS}`);
  });

  it('are in the root package.json\'s "duet" script', () => {
    const scripts = (JSON.parse(readFileSync(ROOT_PACKAGE, 'utf8')) as { scripts: Record<string, string> })
      .scripts;
    expect(scripts.duet).toBe(`node ${OPTIONS} packages/cli/bin/duet.mjs`);
  });

  it('reach Node when the bin is run by its first line', async () => {
    // A preloaded module reports the options Node started with, before the command runs.
    const dir = mkdtempSync(join(tmpdir(), 'duet-options-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const report = join(dir, 'report.mjs');
    writeFileSync(report, 'process.stderr.write(`execArgv=${JSON.stringify(process.execArgv)}\\n`);\n');
    const { code, stdout, stderr } = await runToEnd(BIN, ['--help'], {
      ...process.env,
      // The bin's `env` finds `node` on PATH: this one.
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      NODE_OPTIONS: `--import=${report}`,
    });
    expect(code).toBe(0);
    expect(stdout).toContain('duet');
    const reported = /execArgv=(.*)/.exec(stderr)?.[1];
    expect(JSON.parse(reported ?? '[]')).toEqual(expect.arrayContaining([...CLIENT_NODE_OPTIONS]));
  });
});
