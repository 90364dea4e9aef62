/**
 * Share links carry what the joiner needs in the URL fragment, which browsers never send to a
 * server: the room code, the suite and, for `des`, a typed salt. Never the passphrase. The
 * format is core's (packages/core/src/protocol/share-link.ts), shared with the terminal client.
 */
export {
  fragmentOf,
  parseFragment,
  shareLink,
  type Fragment,
  type Invitation,
} from '@duet/core/protocol/share-link';
