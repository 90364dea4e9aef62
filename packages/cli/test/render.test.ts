import { describe, expect, it } from 'vitest';
import { escapeText, renderEvent } from '../src/render.ts';

describe('terminal lines', () => {
  it('each kind of line has its prefix', () => {
    expect(renderEvent({ type: 'incoming', text: 'hi' }, 'modern')).toBe('< hi');
    expect(renderEvent({ type: 'outgoing', id: 3, text: 'yo' }, 'modern')).toBe('> #3 yo');
    expect(renderEvent({ type: 'delivery', id: 3, status: 'delivered' }, 'modern')).toBe('* #3 delivered');
    expect(renderEvent({ type: 'problem', code: 'room-full', fatal: true }, 'modern')).toMatch(
      /^! room-full: /,
    );
    expect(renderEvent({ type: 'status', status: 'ready' }, 'des')).toContain('cannot confirm delivery');
  });

  it('shows the safety code as words, a partner trying again, and a joiner refused for its suite', () => {
    expect(renderEvent({ type: 'safety-code', code: [1060, 1397, 1486, 644, 1008] }, 'modern')).toBe(
      '* safety code: loyal push right explain lawn (compare it with your partner by voice)',
    );
    expect(renderEvent({ type: 'partner-retried' }, 'modern')).toContain('tried again');
    expect(
      renderEvent({ type: 'partner-refused', code: 'suite-mismatch', suite: 'des' }, 'modern'),
    ).toContain('des suite');
  });

  it('a partner cannot write to the terminal: escapes, line breaks and bidi overrides are shown, not obeyed', () => {
    expect(escapeText('\u001b[2J\u001b]0;pwned\u0007')).toBe('\\x1b[2J\\x1b]0;pwned\\x07');
    expect(escapeText('one\n* secure channel ready\r')).toBe('one\\n* secure channel ready\\r');
    expect(escapeText('abc\u202egpj.exe\u2066')).toBe('abc\\u202egpj.exe\\u2066');
    expect(escapeText('\u009b31m')).toBe('\\x9b31m');
    expect(escapeText('naïve café 🙂\tok')).toBe('naïve café 🙂\tok');
    expect(renderEvent({ type: 'incoming', text: 'x\n< fake' }, 'modern')).toBe('< x\\n< fake');
  });
});
