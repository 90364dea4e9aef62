import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/server.ts';
import { pair, TestClient } from './client.ts';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ port: 0, host: '127.0.0.1', staticDir: '/nonexistent', messageBurst: 10_000 });
});
afterAll(async () => {
  await server.close();
});

/** Protocol-shaped nonsense: right keys with wrong values, wrong keys, deep and odd JSON. */
const nastyControl = fc.oneof(
  fc.string(),
  fc.json(),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc
    .record(
      {
        type: fc.oneof(
          fc.constantFrom('join', 'leave', 'handshake', 'joined', '__proto__', 'constructor'),
          fc.string(),
        ),
        room: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant('a-b-c')),
        suite: fc.oneof(fc.constantFrom('modern', 'des', 'DES', ''), fc.anything()),
      },
      { requiredKeys: ['type'] },
    )
    .map((value) => JSON.stringify(value)),
);

describe('relay under bad input', () => {
  it('answers every bad control frame with an error code while a canary pair keeps chatting', async () => {
    const [canaryA, canaryB] = await pair(server.url, 'canary-room');
    let canaryCount = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(nastyControl, { minLength: 1, maxLength: 5 }), async (texts) => {
        const fuzzer = await TestClient.connect(server.url);
        for (const text of texts) {
          fuzzer.sendText(text);
          const reply = await fuzzer.control();
          // Either an error code, or a legitimate reply to something that happened to be valid.
          expect(['error', 'joined']).toContain(reply.type);
        }
        fuzzer.sendBinary(randomBytes(32)); // not-joined, no-partner, or relayed to whoever sits there
        fuzzer.close();
        await fuzzer.closed;
        // The canary loses nothing.
        const payload = randomBytes(64);
        canaryA.sendBinary(payload);
        expect(Buffer.compare(await canaryB.binary(), payload)).toBe(0);
        canaryCount++;
      }),
      { numRuns: 100 },
    );
    expect(canaryCount).toBe(100);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    canaryA.close();
    canaryB.close();
  });
});
