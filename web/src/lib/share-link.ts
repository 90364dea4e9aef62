/**
 * Share links carry the room code in the URL fragment, which browsers never send to a server.
 * They never carry the passphrase: that is agreed out of band. The format is core's
 * (packages/core/src/protocol/share-link.ts), shared with the terminal client.
 */
import { parseFragment, shareLink as linkTo } from '@duet/core/protocol/share-link';

export function shareLink(location: Pick<Location, 'origin' | 'pathname'>, room: string): string {
  return linkTo(location, { room, suite: 'modern', saltHex: '' });
}

export function roomFromHash(hash: string): string {
  const fragment = parseFragment(hash);
  return fragment.kind === 'invitation' ? fragment.invitation.room : '';
}
