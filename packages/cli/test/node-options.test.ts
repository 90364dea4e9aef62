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
import { CLIENT_NODE_OPTIONS, TIER_UP, tuneTierUp } from '../src/node-options.ts';
import { runToEnd } from './support/run-to-end.ts';

const BIN = fileURLToPath(new URL('../bin/duet.mjs', import.meta.url));
const ROOT_PACKAGE = fileURLToPath(new URL('../../../package.json', import.meta.url));
const OPTIONS = CLIENT_NODE_OPTIONS.join(' ');

/**
 * Runs the bin by its first line (`env` finds `node` on PATH: this one) with `--help`, after a
 * preloaded module whose source is `preload`: what it writes shows what the bin's Node did.
 */
function runBinAfter(preload: string) {
  const dir = mkdtempSync(join(tmpdir(), 'duet-options-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const module = join(dir, 'preload.mjs');
  writeFileSync(module, preload);
  return runToEnd(BIN, ['--help'], {
    ...process.env,
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    NODE_OPTIONS: `--import=${module}`,
  });
}

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
    // The preloaded module reports the options Node started with, before the command runs.
    const { code, stdout, stderr } = await runBinAfter(
      'process.stderr.write(`execArgv=${JSON.stringify(process.execArgv)}\\n`);\n',
    );
    expect(code).toBe(0);
    expect(stdout).toContain('duet');
    const reported = /execArgv=(.*)/.exec(stderr)?.[1];
    expect(JSON.parse(reported ?? '[]')).toEqual(expect.arrayContaining([...CLIENT_NODE_OPTIONS]));
  });
});

describe("the duet command's tier-up budget", () => {
  it("is set on V8 11.3, Node 20's, where it was measured", () => {
    const set: string[] = [];
    expect(tuneTierUp('11.3.244.8-node.38', (flags) => set.push(flags))).toBe(true);
    expect(set).toEqual(['--interrupt-budget=270336']);
  });

  it('is left to V8 elsewhere: its flag is V8-internal and later versions tier up otherwise', () => {
    for (const version of ['12.4.254.21-node.33', '13.6.233.10-node.18', '11.2.214.9', '']) {
      const set: string[] = [];
      expect(tuneTierUp(version, (flags) => set.push(flags))).toBe(false);
      expect(set).toEqual([]);
    }
  });

  it('is set by the bin before the command runs', async () => {
    // The preloaded module wraps node:v8's setFlagsFromString (and updates the ES module
    // bindings to the wrapper) to report what the bin sets.
    const { code, stderr } = await runBinAfter(
      [
        "import v8 from 'node:v8';",
        "import { syncBuiltinESMExports } from 'node:module';",
        'const set = v8.setFlagsFromString;',
        'v8.setFlagsFromString = (flags) => { process.stderr.write(`v8-flags=${flags}\\n`); set(flags); };',
        'syncBuiltinESMExports();',
        '',
      ].join('\n'),
    );
    expect(code).toBe(0);
    const reported = [...stderr.matchAll(/v8-flags=(.*)/g)].map((match) => match[1]);
    expect(reported).toEqual(process.versions.v8.startsWith(TIER_UP.v8) ? [TIER_UP.flag] : []);
  });
});
