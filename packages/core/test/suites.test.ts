import { describe, expect, it } from 'vitest';
import { roomSalt } from '../src/crypto/des-suite.ts';
import type { ChannelEffect } from '../src/session/channel.ts';
import { createDesChannel } from '../src/session/des-channel.ts';
import type { SuiteId } from '../src/protocol/control.ts';
import { createChannel, preloadSuite } from '../src/session/suites.ts';

const frameOf = (effects: ChannelEffect[]) => {
  const effect = effects.find((e) => e.type === 'transmit');
  if (effect?.type !== 'transmit') throw new Error('no frame');
  return effect.frame;
};

describe('suites: the table from a suite id to a channel', () => {
  it('des with the room default salt talks to a des channel built by hand with it', async () => {
    const channel = await createChannel({ suite: 'des', room: 'room-a', passphrase: 'pw', saltHex: '' });
    expect(channel.suite).toBe('des');
    const partner = createDesChannel({ passphrase: 'pw', salt: await roomSalt('room-a') });
    await Promise.all([channel.start('initiator'), partner.start('responder')]);
    expect(await partner.receive(frameOf(await channel.send('hello')))).toEqual([
      { type: 'message', text: 'hello' },
    ]);
  });

  it('des with a typed salt uses that salt and the passphrase', async () => {
    const salt = '00112233445566778899aabbccddeeff';
    const channel = await createChannel({ suite: 'des', room: 'room-a', passphrase: 'pw', saltHex: salt });
    const right = createDesChannel({ passphrase: 'pw', salt: Uint8Array.from(Buffer.from(salt, 'hex')) });
    const wrongSalt = createDesChannel({ passphrase: 'pw', salt: await roomSalt('room-a') });
    await Promise.all([channel.start('initiator'), right.start('responder'), wrongSalt.start('responder')]);
    const frame = frameOf(await channel.send('salted'));
    expect(await right.receive(frame)).toEqual([{ type: 'message', text: 'salted' }]);
    expect(await wrongSalt.receive(frame)).not.toEqual([{ type: 'message', text: 'salted' }]);
  });

  it('modern gets the passphrase and the room', async () => {
    const channel = await createChannel({ suite: 'modern', room: 'room-a', passphrase: 'pw', saltHex: '' });
    expect(channel.suite).toBe('modern');
    expect(await channel.start('initiator')).toEqual([{ type: 'request-handshake' }]);
    await expect(
      createChannel({ suite: 'modern', room: 'room-a', passphrase: '', saltHex: '' }),
    ).rejects.toEqual(expect.objectContaining({ code: 'bad-input' }));
    await expect(
      createChannel({ suite: 'modern', room: 'Bad Room', passphrase: 'pw', saltHex: '' }),
    ).rejects.toEqual(expect.objectContaining({ code: 'bad-input' }));
  });

  it('preloads a known suite without building anything', async () => {
    await expect(preloadSuite('modern')).resolves.toBeUndefined();
    await expect(preloadSuite('des')).resolves.toBeUndefined();
  });

  // A suite name from outside the type system is refused, never looked up on the prototype.
  it.each(['rot13', 'toString', '__proto__', 'constructor', ''])(
    'refuses the unknown suite %j with bad-suite',
    async (suite) => {
      const unknown = suite as SuiteId;
      await expect(
        createChannel({ suite: unknown, room: 'room-a', passphrase: 'pw', saltHex: '' }),
      ).rejects.toMatchObject({
        code: 'bad-suite',
      });
      await expect(preloadSuite(unknown)).rejects.toMatchObject({ code: 'bad-suite' });
    },
  );
});
