import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BLOB_PART_BYTES, blobSink, blobSource, sha256Hash } from '../src/session/file-io.ts';

const bytesOf = async (blob: Blob) => new Uint8Array(await blob.arrayBuffer());
const pattern = (length: number, seed = 0) => {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
};

describe('file I/O: Blob source', () => {
  it('reads exactly the slice asked for, fewer bytes only at the end, none past it', async () => {
    const content = pattern(1000);
    const source = blobSource(new Blob([content]));
    expect(source.size).toBe(1000);
    expect(await source.read(0, 10)).toEqual(content.subarray(0, 10));
    expect(await source.read(990, 64)).toEqual(content.subarray(990));
    expect(await source.read(1000, 64)).toEqual(new Uint8Array(0));
    expect(await source.read(0, 0)).toEqual(new Uint8Array(0));
  });

  it('any slicing gives the file back, byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 1, max: 700 }),
        async (size, step) => {
          const content = pattern(size, size);
          const source = blobSource(new Blob([content]));
          const parts: Uint8Array[] = [];
          for (let offset = 0; offset < size; offset += step) parts.push(await source.read(offset, step));
          expect(new Uint8Array(parts.flatMap((part) => [...part]))).toEqual(content);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('file I/O: Blob sink', () => {
  it('gives back every byte written, in order, with the type, across 1 MiB parts', async () => {
    const sink = blobSink('image/png');
    const chunks = [pattern(BLOB_PART_BYTES - 1, 1), pattern(1, 2), pattern(1, 3), pattern(70_000, 4)];
    for (const chunk of chunks) await sink.write(chunk);
    const blob = await sink.close();
    expect(blob.type).toBe('image/png');
    expect(blob.size).toBe(BLOB_PART_BYTES + 70_001);
    const all = await bytesOf(blob);
    let at = 0;
    for (const chunk of chunks) {
      // Buffer.equals: toEqual on a megabyte of bytes takes seconds.
      expect(Buffer.from(all.subarray(at, at + chunk.length)).equals(chunk)).toBe(true);
      at += chunk.length;
    }
  });

  it('an empty file is an empty Blob', async () => {
    const blob = await blobSink('').close();
    expect(blob.size).toBe(0);
    expect(blob.type).toBe('');
  });

  it('abort throws away what was written, sealed parts and pending bytes alike', async () => {
    const sink = blobSink('text/plain');
    await sink.write(pattern(BLOB_PART_BYTES + 5));
    await sink.write(pattern(10));
    await sink.abort();
    expect((await sink.close()).size).toBe(0);
    await sink.write(Uint8Array.of(7));
    expect(await bytesOf(await sink.close())).toEqual(Uint8Array.of(7));
  });

  it('close leaves nothing for the next close', async () => {
    const sink = blobSink('');
    await sink.write(pattern(BLOB_PART_BYTES));
    expect((await sink.close()).size).toBe(BLOB_PART_BYTES);
    expect((await sink.close()).size).toBe(0);
  });
});

describe('file I/O: SHA-256', () => {
  it('hashes incrementally what one SHA-256 would hash at once', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 6 }), (parts) => {
        const hash = sha256Hash();
        for (const part of parts) hash.update(part);
        const whole = createHash('sha256');
        for (const part of parts) whole.update(part);
        expect(Buffer.from(hash.digest()).toString('hex')).toBe(whole.digest('hex'));
      }),
    );
  });
});

describe('file I/O: Blob sink parts (bytes leave the heap in parts of about 1 MiB)', () => {
  /** Every Blob the sink builds, by the sizes of its parts, while `body` runs. */
  async function blobsBuilt(body: () => Promise<void>): Promise<number[]> {
    const built: number[] = [];
    const RealBlob = globalThis.Blob;
    class CountingBlob extends RealBlob {
      constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
        super(parts, options);
        built.push(this.size);
      }
    }
    globalThis.Blob = CountingBlob;
    try {
      await body();
    } finally {
      globalThis.Blob = RealBlob;
    }
    return built;
  }

  it('a part is handed to a Blob as soon as 1 MiB is gathered, not before, and never an empty one', async () => {
    expect(BLOB_PART_BYTES).toBe(1024 * 1024);
    const built = await blobsBuilt(async () => {
      const sink = blobSink('');
      await sink.write(pattern(BLOB_PART_BYTES - 2));
      await sink.write(pattern(1));
      await sink.write(pattern(1)); // exactly 1 MiB: sealed now
      await sink.write(pattern(10));
      await sink.write(pattern(BLOB_PART_BYTES)); // 1 MiB + 10: sealed
      await sink.close(); // nothing pending: only the whole file
    });
    expect(built).toEqual([BLOB_PART_BYTES, BLOB_PART_BYTES + 10, 2 * BLOB_PART_BYTES + 10]);
  });

  it('below 1 MiB, the bytes become one part at close', async () => {
    const built = await blobsBuilt(async () => {
      const sink = blobSink('');
      await sink.write(pattern(100));
      await sink.write(pattern(200));
      await sink.close();
    });
    expect(built).toEqual([300, 300]);
  });
});
