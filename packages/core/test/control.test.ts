import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDuetError } from '../src/errors.ts';
import {
  MAX_CONTROL_BYTES,
  parseClientMessage,
  parseServerMessage,
  rehearseControl,
  roomCode,
  serverMessage,
  SUITE_VERSIONS,
} from '../src/protocol/control.ts';
import { decodeFrame, encodeFrame, FRAME_VERSION } from '../src/crypto/modern-frame.ts';
import { isRoomCode, isSuiteId } from '../src/protocol/names.ts';

function codeOf(text: string): string | undefined {
  try {
    parseClientMessage(text);
    return undefined;
  } catch (error) {
    return isDuetError(error) ? error.code : 'not-a-duet-error';
  }
}

describe('control protocol: client messages', () => {
  it('accepts join, leave and handshake', () => {
    expect(parseClientMessage('{"type":"join","room":"abcd-efgh","suite":"modern"}')).toEqual({
      type: 'join',
      room: 'abcd-efgh',
      suite: 'modern',
    });
    expect(parseClientMessage('{"type":"leave"}')).toEqual({ type: 'leave' });
    expect(parseClientMessage('{"type":"handshake"}')).toEqual({ type: 'handshake' });
    expect(parseClientMessage('{"type":"join","room":"abcd","suite":"modern","grantOnSeat":true}')).toEqual({
      type: 'join',
      room: 'abcd',
      suite: 'modern',
      grantOnSeat: true,
    });
  });

  it('accepts the seat tokens a client chooses: join with `token`, resume with `next`', () => {
    const token = '0f'.repeat(16);
    const next = 'a0'.repeat(16);
    expect(parseClientMessage(JSON.stringify({ type: 'join', room: 'abcd', suite: 'des', token }))).toEqual({
      type: 'join',
      room: 'abcd',
      suite: 'des',
      token,
    });
    expect(parseClientMessage(JSON.stringify({ type: 'resume', room: 'abcd', token, next }))).toEqual({
      type: 'resume',
      room: 'abcd',
      token,
      next,
    });
  });

  it.each([
    ['not json', 'bad-json'],
    [`{"type":"join","room":"abcd","suite":"des","token":"${'AB'.repeat(16)}"}`, 'bad-message'],
    [`{"type":"join","room":"abcd","suite":"des","token":"${'ab'.repeat(15)}"}`, 'bad-message'],
    [`{"type":"resume","room":"abcd","token":"${'ab'.repeat(16)}","next":7}`, 'bad-message'],
    ['{"type":"dance"}', 'unknown-type'],
    ['[]', 'unknown-type'],
    ['null', 'unknown-type'],
    ['{"type":"join","room":"abc"}', 'bad-message'],
    ['{"type":"leave","extra":1}', 'bad-message'],
    ['{"type":"join","room":"abcd","suite":"modern","grantOnSeat":false}', 'bad-message'],
    ['{"type":"join","room":"Not A Room","suite":"des"}', 'bad-room'],
    ['{"type":"join","room":"ab","suite":"des"}', 'bad-room'],
    ['{"type":"join","room":"abc-","suite":"des"}', 'bad-room'],
    ['{"type":"join","room":"abcd","suite":"rot13"}', 'bad-suite'],
    [`{"type":"join","room":"${'a'.repeat(MAX_CONTROL_BYTES)}","suite":"des"}`, 'too-large'],
  ])('%s → %s', (text, code) => {
    expect(codeOf(text)).toBe(code);
  });

  it('any string either parses or throws a coded DuetError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.object().map((o) => JSON.stringify(o)),
        ),
        (text) => {
          expect(codeOf(text)).not.toBe('not-a-duet-error');
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('control protocol: server messages', () => {
  it('parses what the relay sends and refuses anything else', () => {
    expect(parseServerMessage('{"type":"partner-joined"}')).toEqual({ type: 'partner-joined' });
    expect(() => parseServerMessage('{"type":"joined"}')).toThrow(
      expect.objectContaining({ code: 'bad-message' }),
    );
    expect(() => parseServerMessage('}')).toThrow(expect.objectContaining({ code: 'bad-message' }));
  });

  it('joined and resumed may carry the relay frame rate; a malformed one is refused', () => {
    const joined = {
      type: 'joined',
      room: 'abcd',
      suite: 'modern',
      role: 'initiator',
      partner: false,
      partnerAway: false,
      token: '11'.repeat(16),
    };
    expect(parseServerMessage(JSON.stringify(joined))).toEqual(joined);
    const rated = { ...joined, rate: { burst: 100, perSecond: 50 } };
    expect(parseServerMessage(JSON.stringify(rated))).toEqual(rated);
    for (const rate of [{ burst: 0, perSecond: 50 }, { burst: 100 }, { burst: 1.5, perSecond: 1 }]) {
      expect(() => parseServerMessage(JSON.stringify({ ...joined, rate }))).toThrow(
        expect.objectContaining({ code: 'bad-message' }),
      );
    }
  });
});

describe('the control rehearsal (a page warms the relay messages up while it waits)', () => {
  it('parses one message of every kind the relay sends, each well-formed', () => {
    const kinds = serverMessage.def.options.flatMap((option) => option.shape.type.def.values);
    expect(rehearseControl().sort()).toEqual([...kinds].sort());
  });
});

describe('suite versions (docs/protocol.md, "Versions")', () => {
  it('modern is version 3 (the direct path and files), des is version 2 (the original wire)', () => {
    // Changing either is a protocol change: the relay keeps pages of different versions apart.
    expect(SUITE_VERSIONS).toEqual({ modern: 3, des: 2 });
    expect(FRAME_VERSION).toBe(SUITE_VERSIONS.modern);
  });

  it('a modern frame of another version is refused, not misread', () => {
    const message = {
      type: 'data' as const,
      dh: new Uint8Array(32).fill(9),
      pn: 0,
      n: 1,
      ciphertext: new Uint8Array(48),
      mac: new Uint8Array(16),
    };
    const frame = encodeFrame(message);
    expect(decodeFrame(frame)).toMatchObject({ type: 'data', n: 1 });
    frame[0] = SUITE_VERSIONS.modern - 1;
    expect(() => decodeFrame(frame)).toThrow(expect.objectContaining({ code: 'bad-frame' }));
  });
});

describe('names without a schema library', () => {
  it('isRoomCode agrees with the roomCode schema the relay checks joins with', () => {
    const roomish = fc.stringMatching(/^[a-z0-9-]{0,70}$/);
    fc.assert(
      fc.property(fc.oneof(roomish, fc.string()), (text) => {
        expect(isRoomCode(text)).toBe(roomCode.safeParse(text).success);
      }),
      { numRuns: 1000 },
    );
    for (const [text, valid] of [
      ['abc', true],
      ['ab', false],
      ['a'.repeat(64), true],
      ['a'.repeat(65), false],
      ['abc-', false],
      ['a--b', false],
      ['ABC', false],
    ] as const) {
      expect(isRoomCode(text), text).toBe(valid);
      expect(roomCode.safeParse(text).success, text).toBe(valid);
    }
  });

  it('isSuiteId knows modern and des and nothing else', () => {
    expect(isSuiteId('modern')).toBe(true);
    expect(isSuiteId('des')).toBe(true);
    for (const text of ['', 'rot13', 'DES', 'toString', '__proto__'])
      expect(isSuiteId(text), text).toBe(false);
  });
});
