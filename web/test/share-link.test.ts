import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fragmentOf, parseFragment, shareLink, type Invitation } from '../src/lib/share-link.ts';

const at = { origin: 'https://duet.example', pathname: '/' };

describe('share links', () => {
  it('carry the room, and for des the suite and a typed salt, in the fragment', () => {
    expect(shareLink(at, { room: 'k3mq-8vth-x2pe', suite: 'modern', saltHex: '' })).toBe(
      'https://duet.example/#k3mq-8vth-x2pe',
    );
    expect(fragmentOf({ room: 'k3mq-8vth-x2pe', suite: 'des', saltHex: '' })).toBe(
      'k3mq-8vth-x2pe&suite=des',
    );
    expect(fragmentOf({ room: 'abc', suite: 'des', saltHex: '1234ABCD' })).toBe(
      'abc&suite=des&salt=1234abcd',
    );
    // A salt typed for modern is never written (modern has none).
    expect(fragmentOf({ room: 'abc', suite: 'modern', saltHex: '1234' })).toBe('abc');
  });

  it('parse back to what they were made from', () => {
    const invitations: Invitation[] = [
      { room: 'k3mq-8vth-x2pe', suite: 'modern', saltHex: '' },
      { room: 'room-1', suite: 'des', saltHex: '' },
      { room: 'room-1', suite: 'des', saltHex: '123456789abcdefa1122334455667788' },
    ];
    for (const invitation of invitations) {
      expect(parseFragment(`#${fragmentOf(invitation)}`)).toEqual({ kind: 'invitation', invitation });
    }
  });

  it('read the links of before (a bare room code) as modern, and accept case and spaces', () => {
    expect(parseFragment('#K3MQ-8VTH-X2PE ')).toEqual({
      kind: 'invitation',
      invitation: { room: 'k3mq-8vth-x2pe', suite: 'modern', saltHex: '' },
    });
    expect(parseFragment('')).toEqual({ kind: 'none' });
    expect(parseFragment('#')).toEqual({ kind: 'none' });
    // Unknown keys are left for later versions.
    expect(parseFragment('#abc&v=2')).toMatchObject({ kind: 'invitation' });
  });

  it('are malformed, never thrown, for anything else', () => {
    for (const hash of [
      '#%',
      '#%E0%A4%A',
      '#ab',
      '#a b c',
      '#room&suite=rot13',
      '#room&salt=00',
      '#room&suite=des&salt=0',
      '#room&suite=des&salt=zz',
      '#room&suite=des&suite=des',
      '#room&=x',
      '#room&suite',
      '#-room',
    ]) {
      expect(parseFragment(hash), hash).toEqual({ kind: 'malformed' });
    }
  });

  it('never throw, whatever the fragment (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary' }), fc.stringMatching(/^[a-z0-9&=%-]{0,40}$/)),
        (text) => {
          const parsed = parseFragment(`#${text}`);
          expect(['none', 'malformed', 'invitation']).toContain(parsed.kind);
          if (parsed.kind === 'invitation')
            expect(parseFragment(`#${fragmentOf(parsed.invitation)}`)).toEqual(parsed);
        },
      ),
    );
  });
});
