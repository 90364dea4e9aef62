import { afterEach, describe, expect, it, vi } from 'vitest';

const Real = Intl.DateTimeFormat;

afterEach(() => {
  Intl.DateTimeFormat = Real;
});

describe('time format', () => {
  it('builds one Intl.DateTimeFormat for the page, when first asked, and formats hours and minutes', async () => {
    vi.resetModules();
    const built: unknown[][] = [];
    Intl.DateTimeFormat = function (...args: ConstructorParameters<typeof Real>) {
      built.push(args);
      return new Real(...args);
    } as unknown as typeof Intl.DateTimeFormat;
    const { formatTime, timeFormat } = await import('../src/lib/time-format.ts');
    expect(built).toEqual([]); // nothing at import: the warm-up decides when
    const first = timeFormat();
    expect(timeFormat()).toBe(first);
    const at = new Date(2026, 11, 1, 14, 5).getTime();
    expect(formatTime(at)).toBe(new Real(undefined, { hour: '2-digit', minute: '2-digit' }).format(at));
    expect(formatTime(at)).toMatch(/05/);
    expect(built).toEqual([[undefined, { hour: '2-digit', minute: '2-digit' }]]);
  });
});
