/**
 * What one side of a Double Ratchet knows (session/double-ratchet.ts runs it), and where each
 * side starts. Plain data, so that the whole state can be copied: tests copy it as a thief
 * would. Names in comments are those of "The Double Ratchet Algorithm" (revision 1).
 */
import { toHex, wipe } from '../bytes.ts';
import type { SessionKeys } from '../crypto/modern-keys.ts';
import { publicKeyOf, type DhKeyPair, type X25519 } from '../crypto/x25519.ts';
import type { SkippedKeys } from './skipped-keys.ts';

export interface SendingChain {
  chainKey: Uint8Array;
  headerKey: Uint8Array;
  /** Ns: the number of the next message on this chain. */
  n: number;
  /** PN: how many messages the previous sending chain carried. */
  pn: number;
}

export interface ReceivingChain {
  /** The partner's ratchet public key for this chain… */
  readonly dh: Uint8Array;
  /** …and its hex, which names the chain among the skipped keys. */
  readonly id: string;
  readonly headerKey: Uint8Array;
  /** Absent once the chain is retired: no more keys can be derived from it. */
  chainKey: Uint8Array | undefined;
  /** Nr: the number of the next message expected on this chain. */
  next: number;
  retiredAt?: number;
}

/** Everything one side knows: what a thief who copies the tab's memory gets (tests use it so). */
export interface RatchetState {
  /** RK */
  root: Uint8Array;
  /** DHs; absent while the sending half of a DH step is pending (erased after its use). */
  self: DhKeyPair | undefined;
  /** DHr */
  remote: Uint8Array | undefined;
  /** CKs, HKs, Ns, PN; absent while the sending half is pending. */
  sending: SendingChain | undefined;
  /** PN for the next sending chain, while the sending half is pending. */
  sentOnPrevious: number;
  /** NHKs */
  nextSendingHeaderKey: Uint8Array;
  /** CKr, HKr, Nr, DHr's chain. */
  receiving: ReceivingChain | undefined;
  /** NHKr */
  nextReceivingHeaderKey: Uint8Array;
  /** Retired receiving chains, newest first. */
  previous: ReceivingChain[];
  /** MKSKIPPED */
  skipped: SkippedKeys;
}

/** The first state of each side, from the session keys (consumed: wiped or taken over). */
export async function initialState(keys: SessionKeys, x25519: X25519): Promise<RatchetState> {
  if (keys.role === 'initiator') {
    // §3.3's Bob, who may send first on a chain both derived from the ISK.
    const self = await x25519.fromSecret(keys.initiatorRatchet);
    return {
      root: keys.root,
      self,
      remote: undefined,
      sending: { chainKey: keys.initiatorChain, headerKey: keys.initiatorHeader, n: 0, pn: 0 },
      sentOnPrevious: 0,
      nextSendingHeaderKey: keys.initiatorNext,
      receiving: undefined,
      nextReceivingHeaderKey: keys.responderHeader,
      previous: [],
      skipped: new Map(),
    };
  }
  // §3.3's Alice: it knows the initiator's first public key; its own sending half is pending.
  const initiatorPublic = publicKeyOf(keys.initiatorRatchet);
  wipe(keys.initiatorRatchet);
  return {
    root: keys.root,
    self: undefined,
    remote: initiatorPublic,
    sending: undefined,
    sentOnPrevious: 0,
    nextSendingHeaderKey: keys.responderHeader,
    receiving: {
      dh: initiatorPublic,
      id: toHex(initiatorPublic),
      headerKey: keys.initiatorHeader,
      chainKey: keys.initiatorChain,
      next: 0,
    },
    nextReceivingHeaderKey: keys.initiatorNext,
    previous: [],
    skipped: new Map(),
  };
}
