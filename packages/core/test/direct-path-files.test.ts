/**
 * Files over either path: two real `modern` conversations (two-tabs.ts) with the file transfer
 * attached, as the app wires it. A file goes on the direct link once it is confirmed, and when
 * the link is cut mid-transfer the relay carries the rest from the receiver's confirmed point.
 */
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../src/bytes.ts';
import {
  attachFileTransfers,
  FILE_RETRANSMIT_MIN_MS,
  type FileTransfers,
} from '../src/session/file-transfer.ts';
import type { FileView } from '../src/session/file-view.ts';
import { memorySink, memorySource, type SinkLog } from './file-pair.ts';
import { TwoTabs, type Side } from './two-tabs.ts';

const turn = () => new Promise((resolve) => setImmediate(resolve));

interface Files {
  transfers: FileTransfers<Uint8Array>;
  views: Map<string, FileView<Uint8Array>>;
  sink: SinkLog;
}

function attach(tabs: TwoTabs, side: Side): Files {
  const views = new Map<string, FileView<Uint8Array>>();
  const sink: SinkLog = { written: [], closed: false, aborted: false };
  const transfers = attachFileTransfers<Uint8Array>(tabs.conversations[side], {
    timers: tabs.timers(),
    now: () => tabs.now,
    openSink: async () => memorySink(sink),
    onChange: (view) => views.set(view.id, view),
    autoAccept: () => true,
  });
  return { transfers, views, sink };
}

/**
 * Runs the tabs until `done`: deliveries first, then the file machines' own async work (reads,
 * writes), then the next timer; bounded.
 */
async function runUntil(tabs: TwoTabs, files: Files[], done: () => boolean, maxTimers = 2_000) {
  for (let fired = 0; fired <= maxTimers; fired++) {
    for (let quiet = 0; quiet < 3;) {
      const queued = Object.values(tabs.queues).some((queue) => queue.length > 0);
      await tabs.drain();
      await Promise.all(files.map(({ transfers }) => transfers.settled()));
      await turn();
      quiet = queued ? 0 : quiet + 1;
    }
    if (done()) return;
    if (!(await tabs.fireNextTimer())) break;
  }
  if (!done()) throw new Error('never got there');
}

async function directPair(): Promise<{ tabs: TwoTabs; a: Files; b: Files }> {
  const tabs = new TwoTabs();
  const a = attach(tabs, 'a');
  const b = attach(tabs, 'b');
  await tabs.start();
  await runUntil(tabs, [a, b], () => tabs.path('a') === 'direct' && tabs.path('b') === 'direct');
  return { tabs, a, b };
}

const stateOf = (files: Files, id: string) => files.views.get(id)?.state;
const file = (size: number) => Uint8Array.from({ length: size }, (_, i) => (i * 7 + (i >> 8)) & 0xff);

describe('files over either path', () => {
  it('a file goes on the direct link, and the relay carries none of it', async () => {
    const { tabs, a, b } = await directPair();
    const relayed = { ...tabs.relayFrames };
    const bytes = file(200_000);
    const id = a.transfers.send(memorySource(bytes), {
      name: 'direct.bin',
      mime: 'application/octet-stream',
    });
    await runUntil(tabs, [a, b], () => stateOf(a, id) === 'done' && stateOf(b, id) === 'done');
    expect(concatBytes(...b.sink.written)).toEqual(bytes);
    expect(tabs.relayFrames).toEqual(relayed);
    expect(tabs.directFrames.a).toBeGreaterThan(4);
    expect([...tabs.problems('a'), ...tabs.problems('b')]).toEqual([]);
  });

  it('the link cut mid-transfer: the relay carries the rest from the confirmed point, byte for byte', async () => {
    const { tabs, a, b } = await directPair();
    const bytes = file(400_000);
    const id = a.transfers.send(memorySource(bytes), { name: 'cut.bin', mime: 'application/octet-stream' });
    // Let part of it cross on the link (only the link: no timer fires), then the network under
    // the link fails with chunks in flight. The crypto is real and asynchronous: when nothing is
    // queued yet, wait a turn for the machines to seal the next frame.
    for (let i = 0; i < 10_000 && (b.views.get(id)?.bytes ?? 0) < 100_000; i++) {
      const queue = tabs.queues['direct:b'].length > 0 ? 'direct:b' : 'direct:a';
      if (!(await tabs.step(queue))) await turn();
    }
    const before = b.views.get(id)?.bytes ?? 0;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(bytes.length);
    const relayed = { ...tabs.relayFrames };
    expect(tabs.cutDirect()).toBe(true);
    const cutAt = tabs.now;
    await runUntil(tabs, [a, b], () => stateOf(a, id) === 'done' && stateOf(b, id) === 'done');
    expect(tabs.path('a')).toBe('relay');
    expect(tabs.relayFrames.a).toBeGreaterThan(relayed.a);
    // At once on the fallback, not after the transfer's own retransmission timer (virtual time).
    expect(tabs.now - cutAt).toBeLessThan(FILE_RETRANSMIT_MIN_MS);
    expect(concatBytes(...b.sink.written)).toEqual(bytes);
    expect([...tabs.problems('a'), ...tabs.problems('b')]).toEqual([]);
  });
});
