import { describe, expect, it } from 'vitest';
import { roomSalt } from '../src/crypto/des-suite.ts';
import type { ChannelEffect } from '../src/session/channel.ts';
import { isDuetError } from '../src/errors.ts';
import { createDesChannel, REMEMBERED_IVS } from '../src/session/des-channel.ts';

function frameOf(effects: ChannelEffect[]): Uint8Array {
  const effect = effects.find((e) => e.type === 'transmit');
  if (effect?.type !== 'transmit') throw new Error('no frame transmitted');
  return effect.frame;
}

describe('des channel', () => {
  it('is ready once the partner is there and carries messages both ways', async () => {
    const salt = await roomSalt('test-room');
    const alice = createDesChannel({ passphrase: 'pass', salt });
    const bob = createDesChannel({ passphrase: 'pass', salt });
    expect(await alice.start('initiator')).toEqual([{ type: 'ready' }]);
    expect(await bob.start('responder')).toEqual([{ type: 'ready' }]);
    expect(await bob.receive(frameOf(await alice.send('hi Bob')))).toEqual([
      { type: 'message', text: 'hi Bob' },
    ]);
    expect(await alice.receive(frameOf(await bob.send('hi Alice')))).toEqual([
      { type: 'message', text: 'hi Alice' },
    ]);
  });

  it('a wrong passphrase shows as decrypt-failed and the channel goes on', async () => {
    const salt = await roomSalt('test-room');
    const alice = createDesChannel({ passphrase: 'pass', salt });
    const mallory = createDesChannel({ passphrase: 'not the pass', salt });
    const bob = createDesChannel({ passphrase: 'pass', salt });
    await Promise.all([alice.start('initiator'), mallory.start('initiator'), bob.start('responder')]);
    // A wrong key can, rarely, still give valid padding and UTF-8; these two texts do not.
    expect(await bob.receive(frameOf(await mallory.send('guess')))).toEqual([
      { type: 'warning', code: 'decrypt-failed' },
    ]);
    expect(await bob.receive(frameOf(await alice.send('still here')))).toEqual([
      { type: 'message', text: 'still here' },
    ]);
  });

  it('every malformed frame is the same decrypt-failed warning, never an exception', async () => {
    const bob = createDesChannel({ passphrase: 'pass', salt: await roomSalt('r00m') });
    await bob.start('responder');
    for (const frame of [new Uint8Array(0), new Uint8Array(15), new Uint8Array(17), new Uint8Array(16)]) {
      expect(await bob.receive(frame)).toEqual([{ type: 'warning', code: 'decrypt-failed' }]);
    }
  });

  it('refuses to send before the partner is there', async () => {
    const alice = createDesChannel({ passphrase: 'pass', salt: await roomSalt('r00m') });
    await expect(alice.send('too early')).rejects.toMatchObject({ code: 'no-partner' });
  });

  it('retry switches to a new passphrase without a new channel', async () => {
    const salt = await roomSalt('test-room');
    const alice = createDesChannel({ passphrase: 'pass', salt });
    const bob = createDesChannel({ passphrase: 'other', salt });
    await Promise.all([alice.start('initiator'), bob.start('responder')]);
    expect(await bob.retry('pass')).toEqual([{ type: 'ready' }]);
    expect(await bob.receive(frameOf(await alice.send('now?')))).toEqual([{ type: 'message', text: 'now?' }]);
  });

  it('before the partner is there: grants are ignored, frames are decrypt-failed, retry waits', async () => {
    const salt = await roomSalt('test-room');
    const alice = createDesChannel({ passphrase: 'pass', salt });
    expect(await alice.grant(1, new Uint8Array(16))).toEqual([]);
    expect(await alice.receive(new Uint8Array(16))).toEqual([{ type: 'warning', code: 'decrypt-failed' }]);
    expect(await alice.retry('other')).toEqual([]);
    expect(alice.suite).toBe('des');
    await expect(alice.send('x')).rejects.toMatchObject({ code: 'no-partner' });
  });

  it('after the partner left, sending waits for the next partner; the key is kept', async () => {
    const salt = await roomSalt('test-room');
    const alice = createDesChannel({ passphrase: 'pass', salt });
    const bob = createDesChannel({ passphrase: 'pass', salt });
    await Promise.all([alice.start('initiator'), bob.start('responder')]);
    alice.reset();
    await expect(alice.send('gone?')).rejects.toMatchObject({ code: 'no-partner' });
    expect(await alice.receive(frameOf(await bob.send('late frame')))).toEqual([
      { type: 'message', text: 'late frame' },
    ]);
    expect(await alice.start('initiator')).toEqual([{ type: 'ready' }]);
    expect(await bob.receive(frameOf(await alice.send('back')))).toEqual([{ type: 'message', text: 'back' }]);
  });

  it('drops a frame that carries one of its own recent IVs as replayed: a relay reflecting it back', async () => {
    const salt = await roomSalt('test-room');
    const alice = createDesChannel({ passphrase: 'pass', salt });
    const bob = createDesChannel({ passphrase: 'pass', salt });
    await Promise.all([alice.start('initiator'), bob.start('responder')]);
    const mine = frameOf(await alice.send('mine'));
    expect(await alice.receive(mine)).toEqual([{ type: 'warning', code: 'replayed' }]);
    // The same bytes are a message to the partner, once: a copy right after is dropped silently.
    expect(await bob.receive(mine)).toEqual([{ type: 'message', text: 'mine' }]);
    expect(await bob.receive(mine)).toEqual([]);
    // After a reset (a new partner), its own frames are still its own.
    alice.reset();
    await alice.start('initiator');
    expect(await alice.receive(mine)).toEqual([{ type: 'warning', code: 'replayed' }]);
  });

  it(`remembers its last ${REMEMBERED_IVS} IVs, and only those`, async () => {
    const salt = await roomSalt('test-room');
    const alice = createDesChannel({ passphrase: 'pass', salt });
    await alice.start('initiator');
    const first = frameOf(await alice.send('first'));
    const frames: Uint8Array[] = [];
    for (let i = 0; i < REMEMBERED_IVS; i++) frames.push(frameOf(await alice.send(`#${i}`)));
    expect(await alice.receive(first)).toEqual([{ type: 'message', text: 'first' }]);
    expect(await alice.receive(frames[0]!)).toEqual([{ type: 'warning', code: 'replayed' }]);
  });

  it('a forged frame with a genuine IV does not hide the genuine frame', async () => {
    const salt = await roomSalt('test-room');
    const alice = createDesChannel({ passphrase: 'pass', salt });
    const bob = createDesChannel({ passphrase: 'pass', salt });
    await Promise.all([alice.start('initiator'), bob.start('responder')]);
    const genuine = frameOf(await alice.send('the real one'));
    const forged = genuine.slice();
    // CBC: flipping the last byte of the first ciphertext block flips the last plaintext byte,
    // the padding count 0x04 (12 bytes of text): 0xfb is no valid padding.
    forged[15] = (forged[15] ?? 0) ^ 0xff;
    expect(await bob.receive(forged)).toEqual([{ type: 'warning', code: 'decrypt-failed' }]);
    expect(await bob.receive(genuine)).toEqual([{ type: 'message', text: 'the real one' }]);
  });
});

describe('des channel: texts only', () => {
  it('carries no binary payloads: maxDataBytes is 0 and send refuses bytes', async () => {
    const channel = createDesChannel({ passphrase: 'pw', salt: new Uint8Array(16) });
    await channel.start('initiator');
    expect(channel.maxDataBytes).toBe(0);
    await expect(channel.send(new Uint8Array(4))).rejects.toSatisfy((e) => isDuetError(e, 'bad-input'));
  });
});
