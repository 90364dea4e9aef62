/** The suites as a table: which channel to build for the suite a room uses. */
import { fromHex } from '@duet/core/bytes';
import { roomSalt } from '@duet/core/crypto/des-suite';
import type { SuiteId } from '@duet/core/protocol/control';
import type { SecureChannel } from '@duet/core/session/channel';
import { createDesChannel } from '@duet/core/session/des-channel';
import { createModernChannel } from '@duet/core/session/modern-channel';

export interface ChannelSettings {
  suite: SuiteId;
  room: string;
  passphrase: string;
  /** `des` only: a hex salt, or empty for the room's default salt. */
  saltHex: string;
}

export async function createChannel(settings: ChannelSettings): Promise<SecureChannel> {
  switch (settings.suite) {
    case 'des': {
      const salt = settings.saltHex ? fromHex(settings.saltHex) : await roomSalt(settings.room);
      return createDesChannel({ passphrase: settings.passphrase, salt });
    }
    case 'modern':
      return createModernChannel({ passphrase: settings.passphrase, room: settings.room });
    default: {
      const never: never = settings.suite;
      throw new Error(`unknown suite ${String(never)}`);
    }
  }
}
