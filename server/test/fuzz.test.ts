/**
 * Property: whatever one connection sends, it gets the error the contract's own parser
 * predicts (or a legitimate reply), and nobody else notices. A canary pair in another room
 * keeps exchanging frames after every run, and the relay stays up.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDuetError } from '@duet/core/errors';
import { MAX_CONTROL_BYTES, parseClientMessage, type ServerMessage } from '@duet/core/protocol/control';
import { pair, TestClient } from './client.ts';
import { useServer } from './support/servers.ts';

// A high frame rate, and every error told at once: each frame's answers end at the `too-large`
// of a probe, which coalescing would hold back. Both have their own tests (limits.test.ts,
// relay-parts.test.ts).
const relay = useServer({ messageBurst: 100_000, errorNoticeMs: 0 });

/** Protocol-shaped nonsense: right keys with wrong values, wrong keys, deep and odd JSON. */
const nastyText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ minLength: 300, maxLength: 1100, unit: 'binary' }), // around the size limit, in bytes
  fc.json(),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc
    .record(
      {
        type: fc.oneof(
          fc.constantFrom('join', 'leave', 'handshake', 'resume', 'joined', '__proto__', 'constructor'),
          fc.string(),
        ),
        room: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constantFrom('a-b-c', 'canary-room')),
        suite: fc.oneof(fc.constantFrom('modern', 'des', 'DES', ''), fc.anything()),
        token: fc.oneof(
          fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 32, maxLength: 32 }),
          fc.string(),
        ),
      },
      { requiredKeys: ['type'] },
    )
    .map((value) => JSON.stringify(value)),
);

const nastyFrame = fc.oneof(
  { weight: 5, arbitrary: nastyText.map((text) => ({ text })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((bytes) => ({ bytes })) },
);

/** What the contract's parser says about a text frame: its error code, or 'valid'. */
function predicted(text: string): string {
  if (Buffer.byteLength(text) > MAX_CONTROL_BYTES) return 'too-large';
  try {
    parseClientMessage(text);
    return 'valid';
  } catch (error) {
    return isDuetError(error) ? error.code : 'thrown';
  }
}

/** Replies a well-formed message may get, depending on the state the fuzzer is in. */
const LEGITIMATE = new Set([
  'joined',
  'handshake',
  'partner-joined',
  'partner-left',
  'partner-away',
  'partner-back',
  'error:already-joined',
  'error:room-full',
  'error:suite-mismatch',
  'error:not-joined',
  'error:no-partner',
  'error:resume-failed',
]);
const describeReply = (m: ServerMessage) => (m.type === 'error' ? `error:${m.code}` : m.type);

/** Always answered with too-large, so it marks the end of the replies to what came before. */
const PROBE = 'x'.repeat(MAX_CONTROL_BYTES + 1);

async function repliesUntilProbe(client: TestClient, expectTooLarge: boolean): Promise<string[]> {
  const replies: string[] = [];
  let tooLargeLeft = expectTooLarge ? 2 : 1;
  for (;;) {
    const reply = describeReply(await client.control());
    if (reply === 'error:too-large' && --tooLargeLeft === 0) return replies;
    replies.push(reply);
  }
}

describe('relay under bad input', () => {
  it('answers every frame as the contract predicts while a canary pair keeps chatting', async () => {
    const [canaryA, canaryB] = await pair(relay().url, 'canary-room');
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(nastyFrame, { minLength: 1, maxLength: 6 }), async (frames) => {
        const fuzzer = await TestClient.connect(relay().url);
        try {
          for (const frame of frames) {
            if ('bytes' in frame) {
              fuzzer.sendBinary(frame.bytes); // not-joined, no-partner, or relayed to a partner
              fuzzer.sendText(PROBE);
              const replies = await repliesUntilProbe(fuzzer, false);
              for (const reply of replies)
                expect(['error:not-joined', 'error:no-partner', ...LEGITIMATE]).toContain(reply);
              continue;
            }
            const expected = predicted(frame.text);
            fuzzer.sendText(frame.text);
            fuzzer.sendText(PROBE);
            const replies = await repliesUntilProbe(fuzzer, expected === 'too-large');
            if (expected === 'valid') {
              for (const reply of replies) expect(LEGITIMATE).toContain(reply);
            } else {
              expect(replies).toEqual([`error:${expected}`]);
            }
          }
        } finally {
          fuzzer.close();
          await fuzzer.closed;
        }
        // The canary loses nothing, both ways.
        const there = randomBytes(64);
        canaryA.sendBinary(there);
        expect(Buffer.compare(await canaryB.binary(), there)).toBe(0);
        const back = randomBytes(64);
        canaryB.sendBinary(back);
        expect(Buffer.compare(await canaryA.binary(), back)).toBe(0);
        runs++;
      }),
      { numRuns: 100 },
    );
    expect(runs).toBe(100);
    expect((await fetch(`${relay().url}/healthz`)).status).toBe(200);
    canaryA.close();
    canaryB.close();
  });
});
