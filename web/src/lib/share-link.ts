/**
 * Share links carry the room code in the URL fragment, which browsers never send to a server.
 * They never carry the passphrase: that is agreed out of band.
 */
import { roomCode } from '@duet/core/protocol/control';

export function shareLink(location: Pick<Location, 'origin' | 'pathname'>, room: string): string {
  return `${location.origin}${location.pathname}#${room}`;
}

export function roomFromHash(hash: string): string {
  const candidate = decodeURIComponent(hash.replace(/^#/, '')).trim().toLowerCase();
  return roomCode.safeParse(candidate).success ? candidate : '';
}
