import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generatePassphrase, generateRoomCode } from '../src/protocol/codes.ts';
import { roomCode } from '../src/protocol/control.ts';

describe('room codes and passphrases', () => {
  it('every generated room code is a valid room for the relay', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (pool) => {
        let offset = 0;
        const random = (n: number) => pool.slice(offset, (offset += n));
        const code = generateRoomCode(random);
        expect(code).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
        expect(roomCode.safeParse(code).success).toBe(true);
      }),
    );
  });

  it('codes and passphrases come out different each time', () => {
    expect(new Set(Array.from({ length: 100 }, () => generateRoomCode())).size).toBe(100);
    expect(generatePassphrase()).toMatch(/^([a-z2-9]{5}-){3}[a-z2-9]{5}$/);
    expect(generatePassphrase()).not.toBe(generatePassphrase());
  });
});
