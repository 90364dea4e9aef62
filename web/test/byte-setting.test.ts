import { describe, expect, it } from 'vitest';
import { byteSetting } from '../src/lib/byte-setting.ts';

describe('byte settings of the build', () => {
  it('takes a whole number of bytes, 0 included', () => {
    expect(byteSetting('10485760', 1)).toBe(10_485_760);
    expect(byteSetting(' 42 ', 1)).toBe(42);
    expect(byteSetting('0', 1)).toBe(0);
  });

  it('keeps the default for anything else', () => {
    for (const value of [undefined, '', '  ', '2GB', '-1', '1.5', '1e9', '0x10', '99999999999999999999', 7])
      expect(byteSetting(value, 123)).toBe(123);
  });
});
