/**
 * Duet's `des` against the original design's own functions (derive_key, message_encrypt,
 * message_decrypt, run by Python): each opens what the other makes, for any text.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fromHex } from '@duet/core/bytes';
import { deriveDesKey, desDecrypt, desEncrypt } from '@duet/core/crypto/des-suite';
import { createDesChannel } from '@duet/core/session/des-channel';
import { describeWithSeedPython, SEED_SALT_HEX, SeedCrypto } from './support/seed-python.ts';

const SALT = fromHex(SEED_SALT_HEX);
const TEXTS = [
  'hi',
  'plain ASCII, exactly 8',
  'accents: naïve café, Ærøskøbing, żółć',
  'emoji: 🙂🚀 and 👩🏽‍💻',
  'right-to-left: שלום, مرحبا',
  'x'.repeat(1000),
];

describeWithSeedPython('des against the original’s own functions', () => {
  let seed: SeedCrypto;
  beforeAll(() => {
    seed = new SeedCrypto();
  });
  afterAll(() => seed.close());

  it('a frame from message_encrypt is read by Duet, exactly', async () => {
    const key = await deriveDesKey('pass', SALT);
    for (const text of TEXTS)
      expect(desDecrypt(key, await seed.encrypt('pass', SEED_SALT_HEX, text))).toBe(text);
  });

  it('every frame a Duet des channel sends is opened by message_decrypt, for any text', async () => {
    const channel = createDesChannel({ passphrase: 'pass', salt: SALT });
    await channel.start('initiator');
    const texts = [...TEXTS, ...fc.sample(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }), 30)];
    for (const text of texts) {
      const [effect] = await channel.send(text);
      if (effect?.type !== 'transmit') throw new Error('no frame');
      expect(await seed.decrypt('pass', SEED_SALT_HEX, effect.frame)).toEqual({ text });
    }
  });

  it('with the wrong passphrase, message_decrypt fails its padding check, as the original shows', async () => {
    const key = await deriveDesKey('pass', SALT);
    // A fixed IV makes the outcome fixed: under the wrong key, this frame's padding is bad.
    const frame = desEncrypt(key, 'can you read me?', fromHex('0001020304050607'));
    expect(await seed.decrypt('wrong', SEED_SALT_HEX, frame)).toEqual({ error: 'Padding is incorrect.' });
  });
});
