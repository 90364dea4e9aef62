import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDuetError } from '../src/errors.ts';
import { decodeEnvelope, encodeEnvelope } from '../src/session/envelope.ts';
import {
  decodePathMessage,
  encodePathMessage,
  MAX_CANDIDATE_CHARS,
  MAX_SDP_CHARS,
  type PathMessage,
} from '../src/session/path-messages.ts';

const counter = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const attempt = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const sdp = fc.string({ minLength: 1, maxLength: 200 });

const pathMessage: fc.Arbitrary<PathMessage> = fc.oneof(
  fc.record({ t: fc.constant('prefs' as const), direct: fc.boolean() }),
  fc.record({ t: fc.constantFrom('offer' as const, 'answer' as const), attempt, sdp }),
  fc.record({
    t: fc.constant('candidate' as const),
    attempt,
    candidate: fc.string({ maxLength: 200 }),
    sdpMid: fc.option(fc.string({ maxLength: 64 }), { nil: null }),
    sdpMLineIndex: fc.option(fc.integer({ min: 0, max: 1024 }), { nil: null }),
  }),
  fc.record({ t: fc.constantFrom('bye' as const, 'switch' as const), attempt }),
  fc.record({ t: fc.constantFrom('ping' as const, 'pong' as const), n: counter }),
);

function refused(text: string): boolean {
  try {
    decodePathMessage(text);
    return false;
  } catch (error) {
    expect(isDuetError(error, 'bad-frame'), String(error)).toBe(true);
    return true;
  }
}

const json = (value: unknown) => JSON.stringify(value);
const candidate = { t: 'candidate', attempt: 1, candidate: 'c', sdpMid: '0', sdpMLineIndex: 0 };

describe('path messages', () => {
  it('every kind round-trips, alone and inside an envelope', () => {
    fc.assert(
      fc.property(pathMessage, (message) => {
        expect(decodePathMessage(encodePathMessage(message))).toEqual(message);
        expect(decodeEnvelope(encodeEnvelope({ kind: 'path', message }))).toEqual({ kind: 'path', message });
      }),
    );
  });

  it('takes the limits themselves', () => {
    const longest = 'x'.repeat(MAX_SDP_CHARS);
    expect(decodePathMessage(json({ t: 'offer', attempt: 1, sdp: longest }))).toMatchObject({ sdp: longest });
    const line = 'y'.repeat(MAX_CANDIDATE_CHARS);
    expect(decodePathMessage(json({ ...candidate, candidate: line }))).toMatchObject({ candidate: line });
    expect(
      decodePathMessage(json({ ...candidate, candidate: '', sdpMid: null, sdpMLineIndex: null })),
    ).toEqual({
      ...candidate,
      candidate: '',
      sdpMid: null,
      sdpMLineIndex: null,
    });
    expect(
      decodePathMessage(json({ ...candidate, sdpMid: 'm'.repeat(64), sdpMLineIndex: 1024 })),
    ).toMatchObject({
      sdpMLineIndex: 1024,
    });
    expect(decodePathMessage(json({ t: 'ping', n: 0 }))).toEqual({ t: 'ping', n: 0 });
    expect(decodePathMessage(json({ t: 'pong', n: Number.MAX_SAFE_INTEGER }))).toEqual({
      t: 'pong',
      n: Number.MAX_SAFE_INTEGER,
    });
  });

  it.each([
    ['not JSON', '{"t":"ping"'],
    ['JSON that is not an object', '[1]'],
    ['an unknown kind', json({ t: 'hello' })],
    ['an extra key', json({ t: 'ping', n: 1, x: 1 })],
    ['a missing key', json({ t: 'prefs' })],
    ['prefs that is not a boolean', json({ t: 'prefs', direct: 1 })],
    ['attempt 0', json({ t: 'bye', attempt: 0 })],
    ['a fractional attempt', json({ t: 'switch', attempt: 1.5 })],
    ['a negative counter', json({ t: 'ping', n: -1 })],
    ['a counter past the safe integers', json({ t: 'pong', n: Number.MAX_SAFE_INTEGER + 1 })],
    ['an empty SDP', json({ t: 'answer', attempt: 1, sdp: '' })],
    ['an SDP over the limit', json({ t: 'offer', attempt: 1, sdp: 'x'.repeat(MAX_SDP_CHARS + 1) })],
    ['a candidate over the limit', json({ ...candidate, candidate: 'y'.repeat(MAX_CANDIDATE_CHARS + 1) })],
    ['an sdpMid over 64', json({ ...candidate, sdpMid: 'm'.repeat(65) })],
    ['an sdpMLineIndex over 1024', json({ ...candidate, sdpMLineIndex: 1025 })],
    ['a negative sdpMLineIndex', json({ ...candidate, sdpMLineIndex: -1 })],
    ['a missing sdpMid', json({ t: 'candidate', attempt: 1, candidate: 'c', sdpMLineIndex: 0 })],
  ])('refuses %s as bad-frame', (_name, text) => {
    expect(refused(text)).toBe(true);
    expect(() => decodeEnvelope(`p:${text}`)).toThrow(expect.objectContaining({ code: 'bad-frame' }));
  });

  it('anything else is bad-frame, never another error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        try {
          decodePathMessage(text);
        } catch (error) {
          expect(isDuetError(error, 'bad-frame'), String(error)).toBe(true);
        }
      }),
    );
  });
});
