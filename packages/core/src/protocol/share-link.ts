/**
 * Share links carry what the joiner needs in the URL fragment, which browsers never send to a
 * server: the room code, the suite and, for `des`, a typed salt. Never the passphrase: that is
 * agreed out of band. The web app and the terminal client both read and write links here.
 *
 *   #k3mq-8vth-x2pe                        a `modern` room (also how links looked before suites)
 *   #k3mq-8vth-x2pe&suite=des              a `des` room with the room's default salt
 *   #k3mq-8vth-x2pe&suite=des&salt=1234…   a `des` room with a typed hex salt
 *
 * Parsing never throws and never decodes percent escapes (nothing valid needs them): anything
 * else is `malformed`.
 */
import { isRoomCode, isSuiteId, type SuiteId } from './names.ts';

export interface Invitation {
  room: string;
  suite: SuiteId;
  /** `des` only: a hex salt, or empty for the room's default. */
  saltHex: string;
}

export type Fragment =
  { kind: 'none' } | { kind: 'malformed' } | { kind: 'invitation'; invitation: Invitation };

/** 1 to 64 bytes of lowercase hex. */
export const SALT_HEX = /^(?:[0-9a-f]{2}){1,64}$/;

/** The fragment (without `#`) for an invitation. */
export function fragmentOf(invitation: Invitation): string {
  let fragment = invitation.room;
  if (invitation.suite !== 'modern') fragment += `&suite=${invitation.suite}`;
  if (invitation.suite === 'des' && invitation.saltHex)
    fragment += `&salt=${invitation.saltHex.toLowerCase()}`;
  return fragment;
}

/** The link to the app at `base` (a page's `location`, or a URL) that invites to `invitation`. */
export function shareLink(base: { origin: string; pathname: string }, invitation: Invitation): string {
  return `${base.origin}${base.pathname}#${fragmentOf(invitation)}`;
}

/** Reads a fragment (`location.hash`, with or without its `#`). */
export function parseFragment(hash: string): Fragment {
  const text = hash.replace(/^#/, '').trim().toLowerCase();
  if (text === '') return { kind: 'none' };
  const [room = '', ...pairs] = text.split('&');
  if (!isRoomCode(room)) return { kind: 'malformed' };
  const seen = new Map<string, string>();
  for (const pair of pairs) {
    const match = /^([a-z]+)=([0-9a-z]*)$/.exec(pair);
    if (!match || seen.has(match[1] ?? '')) return { kind: 'malformed' };
    seen.set(match[1] ?? '', match[2] ?? '');
  }
  const suite = seen.get('suite') ?? 'modern';
  if (!isSuiteId(suite)) return { kind: 'malformed' };
  const saltHex = seen.get('salt') ?? '';
  if (saltHex !== '' && (suite !== 'des' || !SALT_HEX.test(saltHex))) return { kind: 'malformed' };
  // Unknown keys are ignored, so that later versions can add some.
  return { kind: 'invitation', invitation: { room, suite, saltHex } };
}

/** A whole share link: the app's address (http or https) and the invitation in its fragment. */
export type ParsedLink =
  | { kind: 'malformed' }
  | { kind: 'invitation'; app: { origin: string; pathname: string }; invitation: Invitation };

export function parseShareLink(link: string): ParsedLink {
  const hashAt = link.indexOf('#');
  if (hashAt < 0) return { kind: 'malformed' };
  let url: URL;
  try {
    url = new URL(link.slice(0, hashAt));
  } catch {
    return { kind: 'malformed' };
  }
  if (
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.search !== '' ||
    url.username !== '' ||
    url.password !== ''
  )
    return { kind: 'malformed' };
  const fragment = parseFragment(link.slice(hashAt));
  if (fragment.kind !== 'invitation') return { kind: 'malformed' };
  return {
    kind: 'invitation',
    app: { origin: url.origin, pathname: url.pathname },
    invitation: fragment.invitation,
  };
}

/** The relay's WebSocket address for the app at `app`: the relay serves both, at `/ws`. */
export function relayUrlOf(app: { origin: string }): string {
  return `${app.origin.replace(/^http/, 'ws')}/ws`;
}
