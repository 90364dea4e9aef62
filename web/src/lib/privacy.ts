/**
 * "Always use the relay (hide my IP address from my partner)", remembered in this browser.
 * localStorage holds this one boolean and nothing else: never a room, a passphrase or a key.
 */
const KEY = 'duet.always-relay';

/** Storage that may be missing or refuse access (private modes, blocked storage). */
export type SettingStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | undefined;

function storage(): SettingStorage {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

/** Off unless the user turned it on here. */
export function readAlwaysRelay(store: SettingStorage = storage()): boolean {
  try {
    return store?.getItem(KEY) === '1';
  } catch {
    return false;
  }
}

export function writeAlwaysRelay(value: boolean, store: SettingStorage = storage()): void {
  try {
    if (value) store?.setItem(KEY, '1');
    else store?.removeItem(KEY);
  } catch {
    // Not remembered: it still holds for this conversation.
  }
}
