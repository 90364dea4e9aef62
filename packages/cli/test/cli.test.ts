/**
 * The `duet` command as a user runs it: real processes against a real relay on a free loopback
 * port, with partners that are other `duet` processes or the same Node client.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { diskSource } from '../src/node-files.ts';
import { startServer, type RunningServer } from '../../../server/src/server.ts';
import { startNodeClient, type NodeClient } from '../src/node-client.ts';
import { DuetProcess } from './support/duet-process.ts';
import { until } from '../../../server/test/support/until.ts';

let relay: RunningServer;
const processes: DuetProcess[] = [];
const clients: NodeClient[] = [];

beforeAll(async () => {
  relay = await startServer({ port: 0, host: '127.0.0.1', staticDir: '/nonexistent' });
});
afterEach(async () => {
  for (const duet of processes.splice(0)) duet.kill();
  for (const client of clients.splice(0)) client.conversation.leave();
});
afterAll(async () => {
  await relay?.close();
});

function duet(args: string[], env: Record<string, string> = {}): DuetProcess {
  const process = DuetProcess.start(args, env);
  processes.push(process);
  return process;
}

let rooms = 0;
function link(suite: 'modern' | 'des' = 'modern'): string {
  const room = `cli-${++rooms}-${Math.random().toString(36).slice(2, 8)}`;
  return `${relay.url}/#${room}${suite === 'des' ? '&suite=des' : ''}`;
}

async function partner(
  share: string,
  passphrase: string,
  files?: { dir: string; accept: 'all' | 'none' },
): Promise<NodeClient> {
  const [, fragment = ''] = share.split('#');
  const [room = '', suite] = fragment.split('&');
  const client = await startNodeClient({
    url: `${relay.url.replace('http', 'ws')}/ws`,
    room,
    passphrase,
    suite: suite === 'suite=des' ? 'des' : 'modern',
    ...(files ? { files } : {}),
  });
  clients.push(client);
  return client;
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'duet-cli-files-'));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('duet in a terminal', () => {
  it('--help works for every command, exits 0 and names the exit codes', async () => {
    const runs = [[], ['start'], ['join'], ['send'], ['send-file']].map((args) => duet([...args, '--help']));
    for (const run of runs) {
      expect(await run.exited).toBe(0);
      expect(run.stdout.join('\n')).toMatch(/Usage:/);
      expect(run.stdout.join('\n')).toContain('130  interrupted');
    }
  });

  it('two terminals chat: duet start prints a link and a passphrase, duet join uses them', async () => {
    const alice = duet(['start', '--url', relay.url]);
    const share = (await alice.waitForLine(/^Share link: /)).slice('Share link: '.length);
    const passphrase = (await alice.waitForLine(/^Passphrase: /)).slice('Passphrase: '.length);
    expect(passphrase).toMatch(/^[a-z0-9-]{20,}$/);
    await alice.waitForLine(/waiting for your partner/);

    const bob = duet(['join', share], { DUET_PASSPHRASE: passphrase });
    await Promise.all([alice.waitForLine(/secure channel ready/), bob.waitForLine(/secure channel ready/)]);
    bob.write('hello from bob, naïve café 🙂');
    await alice.waitForLine(/^< hello from bob, naïve café 🙂$/);
    await bob.waitForLine(/^\* #1 delivered$/);
    alice.write('hi bob');
    await bob.waitForLine(/^< hi bob$/);
    await alice.waitForLine(/^\* #1 delivered$/);

    bob.write('/quit');
    expect(await bob.exited).toBe(0);
    await alice.waitForLine(/partner is not in the room/);
    alice.end();
    expect(await alice.exited).toBe(0);
  });

  it('echo … | duet send: every line is a message; exits 0 once all are delivered', async () => {
    const share = link();
    const bob = await partner(share, 'shared secret');
    const send = duet(['send', share], { DUET_PASSPHRASE: 'shared secret' });
    send.write('first line');
    send.write('');
    send.write('second line');
    send.end();
    expect(await send.exited).toBe(0);
    expect(bob.received).toEqual(['first line', 'second line']);
    expect(send.stdout).toEqual([]); // quiet unless --verbose
  });

  it('duet send with des exits 0 once the relay has the message (sent), the plaintext being the text', async () => {
    const share = link('des');
    const bob = await partner(share, 'pass');
    const send = duet(['send', share, '--verbose', 'des says hi'], { DUET_PASSPHRASE: 'pass' });
    expect(await send.exited).toBe(0);
    expect(send.stderr).toContain('* #1 sent');
    expect(send.stderr.join('\n')).not.toContain('delivered');
    await until(() => bob.received.length === 1, 'the des message');
    expect(bob.received).toEqual(['des says hi']);
  });

  it('a wrong passphrase exits 3 with passphrase-mismatch', async () => {
    const share = link();
    await partner(share, 'right');
    const send = duet(['send', share, 'hello?'], { DUET_PASSPHRASE: 'wrong' });
    expect(await send.exited).toBe(3);
    expect(send.stderr.join('\n')).toContain('passphrase-mismatch');
  });

  it('a full room exits 4', async () => {
    const share = link();
    const [a, b] = [await partner(share, 'pw'), await partner(share, 'pw')];
    await until(() => a.conversation.status === 'ready' && b.conversation.status === 'ready', 'a full room');
    const send = duet(['send', share, 'let me in'], { DUET_PASSPHRASE: 'pw' });
    expect(await send.exited).toBe(4);
    expect(send.stderr.join('\n')).toContain('room-full');
  });

  it('nobody comes: exits 6 after --timeout, saying what it waited for', async () => {
    const send = duet(['send', link(), '--timeout', '1', 'anyone?'], { DUET_PASSPHRASE: 'pw' });
    expect(await send.exited).toBe(6);
    expect(send.stderr.join('\n')).toContain('waiting for your partner');
  });

  it('no relay: exits 7', async () => {
    const send = duet(['send', 'http://127.0.0.1:9/#nobody-home', '--timeout', '1', 'x'], {
      DUET_PASSPHRASE: 'pw',
    });
    expect(await send.exited).toBe(7);
  });

  it('no passphrase and no terminal to ask on: exits 2 with what to do', async () => {
    const send = duet(['send', link(), 'x']);
    expect(await send.exited).toBe(2);
    expect(send.stderr.join('\n')).toContain('DUET_PASSPHRASE');
  });
});

describe('files in a terminal', () => {
  it('duet send-file sends each file and exits 0 once the partner has it, checked', async () => {
    const share = link();
    const inbox = tempDir();
    const bob = await partner(share, 'files pw', { dir: inbox, accept: 'all' });
    const outbox = tempDir();
    const report = randomBytes(300_000);
    writeFileSync(join(outbox, 'report.pdf'), report);
    writeFileSync(join(outbox, 'empty.txt'), '');
    const send = duet(
      ['send-file', share, '--verbose', join(outbox, 'report.pdf'), join(outbox, 'empty.txt')],
      {
        DUET_PASSPHRASE: 'files pw',
      },
    );
    expect(await send.exited).toBe(0);
    expect(send.stderr).toContain('* file #1 delivered: your partner has it, checked');
    expect(readdirSync(inbox).sort()).toEqual(['empty.txt', 'report.pdf']);
    expect(sha256(readFileSync(join(inbox, 'report.pdf')))).toBe(sha256(report));
    const views = [...bob.fileViews.values()];
    expect(views.map((v) => [v.name, v.mime, v.state])).toEqual([
      ['report.pdf', 'application/pdf', 'done'],
      ['empty.txt', 'text/plain', 'done'],
    ]);
  });

  it('duet send-file: a declined file exits 1; des, a missing file or one over the limit exit 2 before connecting', async () => {
    const share = link();
    const bob = await partner(share, 'pw', { dir: tempDir(), accept: 'none' });
    const path = join(tempDir(), 'unwanted.bin');
    writeFileSync(path, randomBytes(1000));
    const send = duet(['send-file', share, path], { DUET_PASSPHRASE: 'pw' });
    await until(() => [...bob.fileViews.values()].some((v) => v.state === 'offered'), 'the offer');
    bob.files!.cancel([...bob.fileViews.keys()][0]!);
    expect(await send.exited).toBe(1);
    expect(send.stderr.join('\n')).toContain('not delivered');

    const refusals = [
      duet(['send-file', link('des'), path], { DUET_PASSPHRASE: 'pw' }),
      duet(['send-file', link(), join(tempDir(), 'nope.bin')], { DUET_PASSPHRASE: 'pw' }),
      duet(['send-file', link(), '--max-file-size', '999', path], { DUET_PASSPHRASE: 'pw' }),
    ];
    for (const refusal of refusals) expect(await refusal.exited).toBe(2);
    expect(refusals[0]!.stderr.join('\n')).toContain('des carries no files');
    expect(refusals[2]!.stderr.join('\n')).toContain('too large');
  });

  it('duet join asks before saving a file (/accept N), saves it under its own name, never over another', async () => {
    const share = link();
    const saveTo = tempDir();
    writeFileSync(join(saveTo, 'notes.txt'), 'already here');
    const bob = duet(['join', share, '--save-to', saveTo], { DUET_PASSPHRASE: 'pw' });
    const alice = await partner(share, 'pw', { dir: tempDir(), accept: 'none' });
    await bob.waitForLine(/secure channel ready/);
    const path = join(tempDir(), 'notes.txt');
    writeFileSync(path, 'new notes');
    const source = await diskSource(path);
    alice.files!.send(source, { name: 'notes.txt', mime: 'text/plain' });
    await bob.waitForLine(
      /^\* file #1 offered by your partner: "notes\.txt" \(9 B, text\/plain\); \/accept 1 or \/decline 1$/,
    );
    bob.write('/accept 1');
    const saved = await bob.waitForLine(/^\* file #1 saved as /);
    expect(saved).toContain('notes (1).txt');
    expect(readFileSync(join(saveTo, 'notes (1).txt'), 'utf8')).toBe('new notes');
    expect(readFileSync(join(saveTo, 'notes.txt'), 'utf8')).toBe('already here');
    await source.close();
    bob.write('/quit');
    expect(await bob.exited).toBe(0);
  });

  it('duet join --accept-files saves without asking; leaving mid-transfer leaves no partial file', async () => {
    const share = link();
    const saveTo = tempDir();
    const bob = duet(['join', share, '--accept-files', '--save-to', saveTo], { DUET_PASSPHRASE: 'pw' });
    const alice = await partner(share, 'pw', { dir: tempDir(), accept: 'none' });
    await bob.waitForLine(/secure channel ready/);
    const small = join(tempDir(), 'photo.jpg');
    writeFileSync(small, randomBytes(5000));
    const photo = await diskSource(small);
    onTestFinished(() => photo.close()); // not left for the collector to close
    alice.files!.send(photo, { name: 'photo.jpg', mime: 'image/jpeg' });
    await bob.waitForLine(/^\* file #1 saved as .*photo\.jpg/);
    const big = join(tempDir(), 'big.bin');
    writeFileSync(big, randomBytes(24 * 1024 * 1024));
    const bigSource = await diskSource(big);
    onTestFinished(() => bigSource.close());
    alice.files!.send(bigSource, { name: 'big.bin', mime: '' });
    await bob.waitForLine(/^\* file #2 receiving/);
    bob.write('/quit');
    expect(await bob.exited).toBe(0);
    expect(readdirSync(saveTo)).toEqual(['photo.jpg']);
  });
});
