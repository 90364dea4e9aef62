import { describe, expect, it } from 'vitest';
import { isOriginAllowed } from '../src/origin.ts';

describe('isOriginAllowed', () => {
  it('allows requests without an Origin (non-browser clients)', () => {
    expect(isOriginAllowed({ host: 'duet.example' }, [])).toBe(true);
  });

  it('by default allows only an Origin whose host and port are the request’s Host', () => {
    expect(isOriginAllowed({ host: 'duet.example:8080', origin: 'http://duet.example:8080' }, [])).toBe(true);
    expect(isOriginAllowed({ host: 'duet.example', origin: 'https://duet.example' }, [])).toBe(true);
    expect(isOriginAllowed({ host: 'duet.example:443', origin: 'https://duet.example' }, [])).toBe(true);
    expect(isOriginAllowed({ host: 'duet.example:8080', origin: 'http://duet.example:9090' }, [])).toBe(
      false,
    );
    expect(isOriginAllowed({ host: 'duet.example', origin: 'https://evil.example' }, [])).toBe(false);
    expect(isOriginAllowed({ host: 'duet.example', origin: 'https://duet.example.evil.example' }, [])).toBe(
      false,
    );
    expect(isOriginAllowed({ origin: 'https://duet.example' }, [])).toBe(false); // no Host to compare with
  });

  it('refuses opaque and non-web origins', () => {
    expect(isOriginAllowed({ host: 'duet.example', origin: 'null' }, [])).toBe(false);
    expect(isOriginAllowed({ host: 'duet.example', origin: 'file://duet.example' }, [])).toBe(false);
  });

  it('with an allow-list, allows exactly the listed origins', () => {
    const allowed = ['https://duet.example'];
    expect(isOriginAllowed({ host: 'relay.internal', origin: 'https://duet.example' }, allowed)).toBe(true);
    expect(isOriginAllowed({ host: 'relay.internal', origin: 'http://duet.example' }, allowed)).toBe(false);
    expect(isOriginAllowed({ host: 'relay.internal', origin: 'http://relay.internal' }, allowed)).toBe(false);
  });
});
