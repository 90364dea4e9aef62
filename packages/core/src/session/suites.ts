/** The suites as a table: which channel to build for the suite a room uses. */
import { fromHex } from '../bytes.ts';
import { roomSalt } from '../crypto/des-suite.ts';
import type { SuiteId } from '../protocol/control.ts';
import type { SecureChannel } from './channel.ts';
import { createDesChannel } from './des-channel.ts';
import { createModernChannel } from './modern-channel.ts';

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
    // Stryker disable all: unreachable: the switch is exhaustive (the type checker proves it)
    default: {
      const never: never = settings.suite;
      throw new Error(`unknown suite ${String(never)}`);
    }
  }
}
