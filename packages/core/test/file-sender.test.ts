/**
 * The outgoing transfer machine alone (session/file-sender.ts): what it sends when, how acks
 * and rewinds move it, how it ends. The transfers around it are tested in file-transfer.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { isDuetError } from '../src/errors.ts';
import type { FileEnvelope } from '../src/protocol/file-envelope.ts';
import { sha256Hash, type FileSource } from '../src/session/file-io.ts';
import { FileSender } from '../src/session/file-sender.ts';

const ID = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
const CHUNK = 10;

function memorySource(bytes: Uint8Array, reads: number[] = []): FileSource {
  return {
    size: bytes.length,
    async read(offset, length) {
      reads.push(offset / CHUNK);
      return bytes.slice(offset, offset + length);
    },
  };
}

function senderOf(size: number, options: { window?: number; source?: FileSource; reads?: number[] } = {}) {
  const content = new Uint8Array(size).map((_, i) => i & 0xff);
  const hashed: number[] = [];
  const hash = sha256Hash();
  const sender = new FileSender({
    id: ID,
    source: options.source ?? memorySource(content, options.reads),
    meta: { name: 'a.bin', size, mime: 'application/octet-stream' },
    chunkBytes: CHUNK,
    window: options.window ?? 4,
    hash: {
      update: (bytes) => {
        hashed.push(bytes.length);
        hash.update(bytes);
      },
      digest: () => hash.digest(),
    },
  });
  return { sender, content, hashed };
}

/** Everything `next` gives until it gives nothing, by type and index. */
async function drain(sender: FileSender, allowance = Infinity): Promise<string[]> {
  const out: string[] = [];
  for (let envelope: FileEnvelope | undefined; (envelope = await sender.next(allowance));) {
    out.push(envelope.type === 'chunk' ? `chunk ${envelope.index}` : envelope.type);
  }
  return out;
}

describe('file sender: offer and accept', () => {
  it('offers once, with the metadata and chunk size; again only after a rewind', async () => {
    const { sender } = senderOf(25);
    expect(sender.phase).toBe('offered');
    expect(sender.active).toBe(true);
    expect(sender.declined).toBe(false);
    const offer = await sender.next();
    expect(offer).toEqual({
      type: 'offer',
      id: ID,
      size: 25,
      chunkBytes: CHUNK,
      mime: 'application/octet-stream',
      name: 'a.bin',
    });
    expect(await sender.next()).toBeUndefined();
    sender.rewind();
    expect((await sender.next())?.type).toBe('offer');
    expect(sender.count).toBe(3);
  });

  it('accepted from 0: chunks up to the window, then the digest only once every chunk was read', async () => {
    const { sender } = senderOf(25, { window: 2 });
    await sender.next();
    expect(sender.accepted(0)).toBe('progress');
    expect(sender.phase).toBe('sending');
    expect(await drain(sender)).toEqual(['chunk 0', 'chunk 1']);
    expect(sender.inFlight).toBe(2);
    expect(sender.confirmed(2)).toBe('progress');
    expect(await drain(sender)).toEqual(['chunk 2', 'end']);
    expect(sender.phase).toBe('sending');
    expect(sender.confirmed(3)).toBe('progress');
    expect(sender.phase).toBe('verifying');
    expect(sender.confirmedBytes).toBe(25);
    expect(await drain(sender)).toEqual([]);
    sender.finished();
    expect(sender.phase).toBe('done');
    expect(sender.active).toBe(false);
  });

  it('the last chunk is shorter; the digest is the SHA-256 of the whole file', async () => {
    const { sender, content } = senderOf(25);
    await sender.next();
    sender.accepted(0);
    const chunks: Uint8Array[] = [];
    let end: Uint8Array | undefined;
    for (let envelope; (envelope = await sender.next());) {
      if (envelope.type === 'chunk') chunks.push(envelope.bytes);
      if (envelope.type === 'end') end = envelope.sha256;
    }
    expect(chunks.map((c) => c.length)).toEqual([10, 10, 5]);
    const whole = sha256Hash();
    whole.update(content);
    expect(end).toEqual(whole.digest());
  });

  it('accepted from a later chunk (resume): starts there; accepted past the end: straight to the digest', async () => {
    const { sender } = senderOf(25);
    await sender.next();
    // The receiver already has chunks 0 and 1 (from an earlier connection of this sender): the
    // sender has not read them in this life, so it cannot have their digest: it reads only 2.
    expect(sender.accepted(2)).toBe('progress');
    expect(sender.acked).toBe(2);
    expect(await drain(sender)).toEqual(['chunk 2']);
    const empty = senderOf(0).sender;
    await empty.next();
    expect(empty.count).toBe(0);
    expect(empty.accepted(0)).toBe('progress');
    expect(empty.phase).toBe('verifying');
    expect(await drain(empty)).toEqual(['end']);
    expect(await drain(empty)).toEqual([]);
  });

  it('a second accept is an ack; an accept for a finished transfer changes nothing', async () => {
    const { sender } = senderOf(25);
    await sender.next();
    sender.accepted(0);
    await drain(sender);
    expect(sender.accepted(1)).toBe('progress');
    expect(sender.acked).toBe(1);
    sender.stop({ cancelledBy: 'you' });
    expect(sender.accepted(3)).toBe('none');
    expect(sender.confirmed(3)).toBe('none');
    expect(sender.acked).toBe(1);
  });

  it('no chunk without allowance, and none before the accept', async () => {
    const { sender } = senderOf(25);
    await sender.next();
    expect(await sender.next()).toBeUndefined();
    expect(sender.confirmed(1)).toBe('none');
    sender.accepted(0);
    expect(await drain(sender, 0)).toEqual([]);
    expect(await drain(sender, 1)).toEqual(['chunk 0', 'chunk 1', 'chunk 2', 'end']);
  });
});

describe('file sender: acks, gaps and rewinds', () => {
  it('an ack beyond the last chunk is bad-frame', async () => {
    const { sender } = senderOf(25);
    await sender.next();
    sender.accepted(0);
    expect(() => sender.confirmed(4)).toThrow(expect.objectContaining({ code: 'bad-frame' }));
    expect(sender.confirmed(3)).toBe('progress');
    // Still while it waits for done.
    expect(sender.phase).toBe('verifying');
    expect(() => sender.confirmed(4)).toThrow(expect.objectContaining({ code: 'bad-frame' }));
  });

  it('an ack ahead of what was sent moves the next chunk on; an old ack changes nothing', async () => {
    const { sender, hashed } = senderOf(55, { window: 2 });
    await sender.next();
    sender.accepted(0);
    expect(await drain(sender)).toEqual(['chunk 0', 'chunk 1']);
    expect(sender.confirmed(1)).toBe('progress');
    expect(await drain(sender)).toEqual(['chunk 2']);
    expect(sender.confirmed(0)).toBe('none');
    expect(sender.acked).toBe(1);
    expect(hashed).toEqual([10, 10, 10]);
  });

  it('a repeated ack while chunks are out rewinds once per stall point, to the confirmed chunk', async () => {
    const { sender, reads, hashed } = (() => {
      const r: number[] = [];
      return { ...senderOf(55, { window: 3, reads: r }), reads: r };
    })();
    await sender.next();
    sender.accepted(0);
    expect(await drain(sender)).toEqual(['chunk 0', 'chunk 1', 'chunk 2']);
    expect(sender.confirmed(1)).toBe('progress');
    expect(await drain(sender)).toEqual(['chunk 3']);
    expect(sender.confirmed(1)).toBe('rewound'); // chunk 1 was lost: the receiver still says 1
    expect(sender.inFlight).toBe(0);
    expect(sender.confirmed(1)).toBe('none'); // once per stall point
    expect(await drain(sender)).toEqual(['chunk 1', 'chunk 2', 'chunk 3']);
    expect(sender.confirmed(1)).toBe('none');
    expect(sender.confirmed(2)).toBe('progress');
    expect(await drain(sender)).toEqual(['chunk 4']);
    expect(sender.confirmed(2)).toBe('rewound'); // a new stall point
    // A re-read chunk is not hashed again: every chunk once, in order.
    expect(reads).toEqual([0, 1, 2, 3, 1, 2, 3, 4]);
    expect(hashed).toEqual([10, 10, 10, 10, 10]);
  });

  it('a repeated ack with nothing out is no rewind', async () => {
    const { sender } = senderOf(25);
    await sender.next();
    sender.accepted(0);
    expect(sender.confirmed(0)).toBe('none');
    expect(await drain(sender)).toEqual(['chunk 0', 'chunk 1', 'chunk 2', 'end']);
  });

  it('rewind sends everything unconfirmed again, and the digest if only done is missing', async () => {
    const { sender } = senderOf(25, { window: 8 });
    await sender.next();
    sender.accepted(0);
    expect(await drain(sender)).toEqual(['chunk 0', 'chunk 1', 'chunk 2', 'end']);
    sender.confirmed(1);
    sender.rewind();
    expect(await drain(sender)).toEqual(['chunk 1', 'chunk 2', 'end']);
    // After a rewind the stall point is forgotten: a repeated ack rewinds again.
    expect(sender.confirmed(1)).toBe('rewound');
    sender.confirmed(3);
    expect(sender.phase).toBe('verifying');
    expect(await drain(sender)).toEqual([]);
    sender.rewind();
    expect(await drain(sender)).toEqual(['end']);
    expect(sender.phase).toBe('verifying');
  });

  it('an early chunk sent again does not bring the digest with it', async () => {
    const { sender } = senderOf(25, { window: 8 });
    await sender.next();
    sender.accepted(0);
    expect(await drain(sender)).toEqual(['chunk 0', 'chunk 1', 'chunk 2', 'end']);
    sender.rewind(); // nothing confirmed yet: from chunk 0
    expect((await sender.next())?.type).toBe('chunk');
    sender.confirmed(3); // the receiver had them all: it has the digest too
    expect(sender.phase).toBe('verifying');
    expect(await drain(sender)).toEqual([]);
  });

  it('rewind does nothing once the transfer ended', async () => {
    const { sender } = senderOf(25);
    await sender.next();
    sender.stop({ code: 'transfer-failed' });
    sender.rewind();
    expect(await sender.next()).toBeUndefined();
    // Nor to one stopped with chunks out: what was out stays counted as it was.
    const busy = senderOf(25).sender;
    await busy.next();
    busy.accepted(0);
    expect(await drain(busy)).toEqual(['chunk 0', 'chunk 1', 'chunk 2', 'end']);
    busy.stop({ cancelledBy: 'you' });
    busy.rewind();
    expect(busy.inFlight).toBe(3);
    expect(await busy.next()).toBeUndefined();
  });
});

describe('file sender: endings', () => {
  it('stop: failed with a code, or cancelled by someone (declined or not); only the first ending counts', async () => {
    const failed = senderOf(25).sender;
    failed.stop({ code: 'transfer-lost' });
    expect([failed.phase, failed.code, failed.active]).toEqual(['failed', 'transfer-lost', false]);
    failed.stop({ cancelledBy: 'partner', declined: true });
    failed.finished();
    expect([failed.phase, failed.declined, failed.cancelledBy]).toEqual(['failed', false, undefined]);

    const declined = senderOf(25).sender;
    declined.stop({ cancelledBy: 'partner', declined: true });
    expect([declined.phase, declined.cancelledBy, declined.declined]).toEqual(['cancelled', 'partner', true]);
    const cancelled = senderOf(25).sender;
    cancelled.stop({ cancelledBy: 'you' });
    expect([cancelled.phase, cancelled.declined, cancelled.code]).toEqual(['cancelled', false, undefined]);
  });

  it('finished while sending counts every chunk as confirmed', async () => {
    const { sender } = senderOf(25);
    await sender.next();
    sender.accepted(0);
    sender.finished();
    expect([sender.phase, sender.acked, sender.confirmedBytes]).toEqual(['done', 3, 25]);
  });

  it('a source that fails, or returns fewer bytes, is file-read-failed', async () => {
    const broken = senderOf(25, {
      source: { size: 25, read: () => Promise.reject(new Error('gone')) },
    }).sender;
    await broken.next();
    broken.accepted(0);
    await expect(broken.next()).rejects.toSatisfy(
      (e) => isDuetError(e, 'file-read-failed') && /could not be read/.test((e as Error).message),
    );
    const shrunk = senderOf(25, {
      source: { size: 25, read: async () => new Uint8Array(3) },
    }).sender;
    await shrunk.next();
    shrunk.accepted(0);
    await expect(shrunk.next()).rejects.toSatisfy(
      (e) => isDuetError(e, 'file-read-failed') && /changed/.test((e as Error).message),
    );
  });
});
