/**
 * staged-writer.ts against a fake disk that answers when told to: every byte arrives in order
 * whatever the sizes, one write at a time, `append` waits only when both stages are full, and a
 * failed write fails what follows.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex } from '@duet/core/bytes';
import { StagedWriter } from '../src/staged-writer.ts';

/** A disk whose writes each wait for `finish` (or finish at once with `instant`). */
class FakeDisk {
  readonly written: Uint8Array[] = [];
  readonly pending: (() => void)[] = [];
  inFlight = 0;
  maxInFlight = 0;
  failWith: Error | undefined;
  instant = false;

  readonly writeAll = (bytes: Uint8Array): Promise<void> => {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const copy = bytes.slice(); // what the disk got, at the time it got it
    return new Promise<void>((resolve, reject) => {
      const finish = () => {
        this.inFlight -= 1;
        if (this.failWith) return reject(this.failWith);
        this.written.push(copy);
        resolve();
      };
      if (this.instant) queueMicrotask(finish);
      else this.pending.push(finish);
    });
  };

  /** Lets every write asked for so far finish, and those they start, until none is left. */
  async drain(): Promise<void> {
    for (let finish = this.pending.shift(); finish; finish = this.pending.shift()) {
      finish();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

describe('staged writer', () => {
  it('writes every byte in order, one write at a time, whatever the sizes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), async (chunks) => {
        const disk = new FakeDisk();
        disk.instant = true;
        const writer = new StagedWriter(disk.writeAll, 64);
        for (const chunk of chunks) await writer.append(chunk);
        await writer.flush();
        expect(toHex(concatBytes(...disk.written))).toBe(toHex(concatBytes(...chunks)));
        expect(disk.maxInFlight).toBeLessThanOrEqual(1);
      }),
      { numRuns: 200 },
    );
  });

  it('takes bytes at once while a stage is free, and waits once both are full', async () => {
    const disk = new FakeDisk();
    const writer = new StagedWriter(disk.writeAll, 4);
    await writer.append(Uint8Array.of(1, 2)); // goes to the disk at once
    await writer.append(Uint8Array.of(3, 4, 5)); // gathered in the other stage
    let waited = true;
    const full = writer.append(Uint8Array.of(6)).then(() => (waited = false)); // fills it: waits
    await new Promise((resolve) => setImmediate(resolve));
    expect(waited).toBe(true);
    await disk.drain();
    await full;
    await writer.flush();
    await disk.drain();
    expect(toHex(concatBytes(...disk.written))).toBe('010203040506');
  });

  it('the caller may reuse its bytes once append resolved', async () => {
    const disk = new FakeDisk();
    disk.instant = true;
    const writer = new StagedWriter(disk.writeAll, 8);
    const reused = Uint8Array.of(1, 1, 1);
    await writer.append(reused);
    reused.fill(9);
    await writer.append(reused);
    await writer.flush();
    expect(toHex(concatBytes(...disk.written))).toBe('010101090909');
  });

  it('a failed write fails the next append and the flush', async () => {
    const disk = new FakeDisk();
    disk.instant = true;
    disk.failWith = new Error('disk full');
    const writer = new StagedWriter(disk.writeAll, 8);
    await writer.append(Uint8Array.of(1));
    await expect(writer.flush()).rejects.toThrow('disk full');
    await expect(writer.append(Uint8Array.of(2))).rejects.toThrow('disk full');
  });

  it('stop drops what was not written, waits for the write under way, and refuses more', async () => {
    const disk = new FakeDisk();
    const writer = new StagedWriter(disk.writeAll, 8);
    await writer.append(Uint8Array.of(1));
    await writer.append(Uint8Array.of(2));
    const stopped = writer.stop();
    await disk.drain();
    await stopped;
    expect(toHex(concatBytes(...disk.written))).toBe('01');
    await expect(writer.append(Uint8Array.of(3))).rejects.toThrow('the file is closed');
  });
});
