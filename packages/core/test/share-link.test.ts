import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fragmentOf,
  parseFragment,
  parseShareLink,
  relayUrlOf,
  shareLink,
  type Invitation,
} from '../src/protocol/share-link.ts';

const room = fc
  .array(fc.stringMatching(/^[a-z0-9]{1,8}$/), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.join('-'))
  .filter((code) => code.length >= 3 && code.length <= 64);
const invitation: fc.Arbitrary<Invitation> = fc.oneof(
  room.map((code) => ({ room: code, suite: 'modern' as const, saltHex: '' })),
  fc.record({
    room,
    suite: fc.constant('des' as const),
    saltHex: fc.oneof(fc.constant(''), fc.uint8Array({ minLength: 1, maxLength: 64 }).map(hex)),
  }),
);

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

describe('share links', () => {
  it('any invitation round-trips through a link', () => {
    fc.assert(
      fc.property(invitation, (value) => {
        const link = shareLink({ origin: 'https://duet.example', pathname: '/' }, value);
        expect(parseShareLink(link)).toEqual({
          kind: 'invitation',
          app: { origin: 'https://duet.example', pathname: '/' },
          invitation: value,
        });
      }),
    );
  });

  it('writes the formats the web app reads', () => {
    expect(fragmentOf({ room: 'k3mq-8vth-x2pe', suite: 'modern', saltHex: '' })).toBe('k3mq-8vth-x2pe');
    expect(fragmentOf({ room: 'k3mq-8vth-x2pe', suite: 'des', saltHex: '' })).toBe(
      'k3mq-8vth-x2pe&suite=des',
    );
    expect(
      shareLink(
        { origin: 'http://127.0.0.1:8080', pathname: '/' },
        { room: 'seed-room', suite: 'des', saltHex: '123456789ABCDEFA1122334455667788' },
      ),
    ).toBe('http://127.0.0.1:8080/#seed-room&suite=des&salt=123456789abcdefa1122334455667788');
  });

  it('reads old links, ignores unknown keys, and calls anything else malformed without throwing', () => {
    expect(parseFragment('#k3mq-8vth-x2pe')).toEqual({
      kind: 'invitation',
      invitation: { room: 'k3mq-8vth-x2pe', suite: 'modern', saltHex: '' },
    });
    expect(parseFragment('#abc&suite=des&later=1')).toMatchObject({ kind: 'invitation' });
    expect(parseFragment('')).toEqual({ kind: 'none' });
    for (const bad of [
      '#a',
      '#abc&suite=rot13',
      '#abc&salt=00',
      '#abc&suite=des&salt=0',
      '#abc&suite',
      '#ab%63',
    ])
      expect(parseFragment(bad), bad).toEqual({ kind: 'malformed' });
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(['none', 'malformed', 'invitation']).toContain(parseFragment(text).kind);
      }),
    );
  });

  it('a whole link needs an http(s) address and an invitation', () => {
    for (const bad of [
      'k3mq-8vth-x2pe',
      'http://127.0.0.1:8080/',
      'ftp://127.0.0.1/#k3mq-8vth-x2pe',
      'http://user:pw@127.0.0.1/#k3mq-8vth-x2pe',
      'http://127.0.0.1/?x=1#k3mq-8vth-x2pe',
      'not a url#k3mq-8vth-x2pe',
      'http://127.0.0.1/#',
    ])
      expect(parseShareLink(bad), bad).toEqual({ kind: 'malformed' });
  });

  it('the relay listens at /ws on the app origin, ws or wss', () => {
    expect(relayUrlOf({ origin: 'http://127.0.0.1:8080' })).toBe('ws://127.0.0.1:8080/ws');
    expect(relayUrlOf({ origin: 'https://duet.example' })).toBe('wss://duet.example/ws');
  });
});
