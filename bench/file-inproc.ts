/**
 * Core's file transfer with the relay and both terminal clients in this one process: CPU time
 * per MiB and MiB/s, run after run. One thread does all the work, so the CPU per MiB says what
 * the code costs without three processes contending for two cores (workload h's setting), and
 * moves little from run to run: the figure to compare two versions of the transfer's code by.
 *
 *   npx tsx bench/file-inproc.ts            (16 MiB, 3 runs; FILE_INPROC_MIB, FILE_INPROC_RUNS)
 *
 * The first run includes the code's warm-up (compilation): read the later ones.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNodeClient } from '@duet/cli/node-client';
import { diskSource } from '@duet/cli/node-files';
import { startDuetRelay } from './duet-relay.ts';

const MiB = 1024 * 1024;
const TIMEOUT_MS = 120_000;

function until(predicate: () => boolean, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (predicate()) resolve();
      else if (performance.now() > deadline) reject(new Error('file-inproc: timed out'));
      else setTimeout(check, 2);
    };
    check();
  });
}

async function main(): Promise<void> {
  const mib = Number(process.env.FILE_INPROC_MIB ?? 16);
  const runs = Number(process.env.FILE_INPROC_RUNS ?? 3);
  const size = mib * MiB;
  const dir = mkdtempSync(join(tmpdir(), 'duet-file-inproc-'));
  const path = join(dir, 'source.bin');
  writeFileSync(path, randomBytes(size));
  const relay = await startDuetRelay();
  const url = `ws://127.0.0.1:${relay.port}/ws`;
  try {
    for (let run = 1; run <= runs; run++) {
      const deadline = performance.now() + TIMEOUT_MS;
      const room = `inproc-${run}-${randomBytes(4).toString('hex')}`;
      const into = mkdtempSync(join(dir, 'received-'));
      const [sender, receiver] = await Promise.all([
        startNodeClient({ url, room, passphrase: 'bench passphrase', files: { dir } }),
        startNodeClient({
          url,
          room,
          passphrase: 'bench passphrase',
          files: { dir: into, accept: 'all', maxFileBytes: size },
        }),
      ]);
      await until(
        () => sender.conversation.status === 'ready' && receiver.conversation.status === 'ready',
        deadline,
      );
      const source = await diskSource(path);
      const cpu = process.cpuUsage();
      const started = performance.now();
      const id = sender.files!.send(source, { name: 'bench.bin', mime: 'application/octet-stream' });
      const ended = () => ['done', 'failed', 'cancelled'].includes(sender.fileViews.get(id)?.state ?? '');
      await until(ended, deadline);
      const spent = process.cpuUsage(cpu);
      const seconds = (performance.now() - started) / 1000;
      const state = sender.fileViews.get(id)?.state;
      if (state !== 'done') throw new Error(`file-inproc: the transfer ended ${state}`);
      const cpuMsPerMiB = (spent.user + spent.system) / 1000 / mib;
      console.log(
        `run ${run}: ${cpuMsPerMiB.toFixed(1)} ms CPU per MiB, ${(mib / seconds).toFixed(1)} MiB/s`,
      );
      await source.close();
      sender.conversation.leave();
      receiver.conversation.leave();
      await Promise.all([sender.closed(), receiver.closed()]);
    }
  } finally {
    await relay.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
