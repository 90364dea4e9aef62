import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8Encode } from '../src/bytes.ts';
import { MAX_SAFE_NAME_BYTES, safeFileName } from '../src/session/file-name.ts';

describe('safe file names', () => {
  it.each([
    ['photo.jpg', 'photo.jpg'],
    ['café résumé.pdf', 'café résumé.pdf'],
    ['../../.bashrc', '_.._.bashrc'],
    ['/etc/passwd', '_etc_passwd'],
    ['C:\\Windows\\evil.dll', 'C__Windows_evil.dll'],
    ['.profile', 'profile'],
    ['...', 'file'],
    ['', 'file'],
    ['  spaced out  ', 'spaced out'],
    ['invoice\u202efdp.exe', 'invoice_fdp.exe'],
    ['tab\there\nnewline', 'tab_here_newline'],
    ['CON', '_CON'],
    ['lpt1.txt', '_lpt1.txt'],
    ['what?<>|*".txt', 'what______.txt'],
    ['trailing dot.', 'trailing dot'],
  ])('%j becomes %j', (name, safe) => {
    expect(safeFileName(name)).toBe(safe);
  });

  it('keeps the extension when it shortens a long name', () => {
    const safe = safeFileName(`${'é'.repeat(300)}.tar.gz`);
    expect(safe.endsWith('.gz')).toBe(true);
    expect(utf8Encode(safe).length).toBeLessThanOrEqual(MAX_SAFE_NAME_BYTES);
  });

  it('any name becomes one path segment, not hidden, with nothing unsafe, of bounded length', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (name) => {
        const safe = safeFileName(name);
        expect(safe.length).toBeGreaterThan(0);
        expect(safe).not.toMatch(/[/\\:*?"<>|\p{Cc}\p{Cf}]/u);
        expect(safe.startsWith('.')).toBe(false);
        expect(safe).not.toBe('..');
        expect(utf8Encode(safe).length).toBeLessThanOrEqual(MAX_SAFE_NAME_BYTES);
      }),
      { numRuns: 500 },
    );
  });
});

describe('safe file names: reserved names and shortening, exactly', () => {
  it.each([
    ['falcon.txt', 'falcon.txt'],
    ['console.log', 'console.log'],
    ['COM1', '_COM1'],
    ['com9.txt', '_com9.txt'],
    ['comx', 'comx'],
  ])('reserved only as a whole name: %j becomes %j', (name, safe) => {
    expect(safeFileName(name)).toBe(safe);
  });

  it('cuts to exactly 200 bytes, keeping whole characters and the extension', () => {
    expect(safeFileName('a'.repeat(300))).toBe('a'.repeat(200));
    expect(safeFileName(`${'a'.repeat(300)}b`)).toBe('a'.repeat(200));
    expect(safeFileName(`${'é'.repeat(300)}.tar.gz`)).toBe(`${'é'.repeat(98)}.gz`);
    expect(safeFileName(`${'a'.repeat(300)}.pdf`)).toBe(`${'a'.repeat(196)}.pdf`);
  });

  it('keeps an extension of up to 16 characters with its dot, drops a longer one', () => {
    const fifteen = 'e'.repeat(15);
    expect(safeFileName(`${'a'.repeat(300)}.${fifteen}`)).toBe(`${'a'.repeat(184)}.${fifteen}`);
    const sixteen = 'e'.repeat(16);
    expect(safeFileName(`${'a'.repeat(300)}.${sixteen}`)).toBe('a'.repeat(200));
  });
});
