/**
 * node-x25519.ts: the terminal client's X25519 by `node:crypto` passes the conformance suite of
 * core's sources (RFC 7748, agreement with @noble/curves, low-order points, bad input), keeps
 * its private keys in key objects, wipes the PKCS #8 copy of a secret, and a channel using it
 * talks to a channel using WebCrypto across many turn changes.
 */
import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { fromHex, toHex } from '@duet/core/bytes';
import { nobleX25519, webCryptoX25519 } from '@duet/core/crypto/x25519';
import { createChannel } from '@duet/core/session/suites';
import { nodeFrameCrypto } from '../src/node-frame-crypto.ts';
import { nodeX25519 } from '../src/node-x25519.ts';
import { runToEnd } from './support/run-to-end.ts';
import { frameOf, MemoryRelay } from '../../core/test/modern-pair.ts';
import { seededRandom } from '../../core/test/ratchet-pair.ts';
import {
  ALICE_PRIVATE,
  badInput,
  BOB_PUBLIC,
  describeX25519Source,
  SHARED,
} from '../../core/test/x25519-conformance.ts';

/** What node-x25519.ts hands to createPrivateKey (the PKCS #8 DER of a secret), as given. */
const imported = vi.hoisted(() => [] as Uint8Array[]);
/** When set, the public key the next key generations return instead of their own. */
const generatedPublic = vi.hoisted(() => ({ override: undefined as unknown }));
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return {
    ...real,
    createPrivateKey: (input: Parameters<typeof real.createPrivateKey>[0]) => {
      const key = (input as { key?: unknown }).key;
      if (key instanceof Uint8Array) imported.push(key);
      return real.createPrivateKey(input);
    },
    generateKeyPairSync: (...args: Parameters<typeof real.generateKeyPairSync>) => {
      const pair = real.generateKeyPairSync(...args);
      return generatedPublic.override === undefined ? pair : { ...pair, publicKey: generatedPublic.override };
    },
  };
});

describeX25519Source('node:crypto', () => nodeX25519());

describe('X25519 by node:crypto', () => {
  it('is named node', () => {
    expect(nodeX25519().name).toBe('node');
  });

  it('keeps private keys in node:crypto key objects, from generate and from fromSecret', async () => {
    const x = nodeX25519();
    for (const pair of [await x.generate(), await x.fromSecret(fromHex(ALICE_PRIVATE))]) {
      expect(pair.privateKey).toBeInstanceOf(KeyObject);
      expect((pair.privateKey as KeyObject).asymmetricKeyType).toBe('x25519');
      expect(pair.publicKey).toHaveLength(32);
    }
  });

  it('fromSecret wipes the secret and the PKCS #8 copy it hands to node:crypto', async () => {
    imported.length = 0;
    const secret = fromHex(ALICE_PRIVATE);
    await nodeX25519().fromSecret(secret);
    expect(secret.every((b) => b === 0)).toBe(true);
    expect(imported).toHaveLength(1);
    expect(imported[0]).toHaveLength(48);
    expect(imported[0]!.every((b) => b === 0)).toBe(true);
  });

  it("refuses another source's private key, and its own is refused by the others", async () => {
    const x = nodeX25519();
    const noble = nobleX25519(seededRandom('node-mix'));
    const web = webCryptoX25519();
    const bob = fromHex(BOB_PUBLIC);
    await expect(x.sharedSecret(await noble.generate(), bob)).rejects.toEqual(badInput);
    await expect(x.sharedSecret(await web.generate(), bob)).rejects.toEqual(badInput);
    await expect(noble.sharedSecret(await x.generate(), bob)).rejects.toEqual(badInput);
    await expect(web.sharedSecret(await x.generate(), bob)).rejects.toEqual(badInput);
    const { privateKey } = generateKeyPairSync('ed25519');
    await expect(x.sharedSecret({ publicKey: bob, privateKey }, bob)).rejects.toEqual(badInput);
  });

  it("uses each new partner key, not the last one imported (the partner's key cache)", async () => {
    const x = nodeX25519();
    const noble = nobleX25519(seededRandom('node-cache'));
    const own = await x.fromSecret(fromHex(ALICE_PRIVATE));
    const mine = await noble.fromSecret(fromHex(ALICE_PRIVATE));
    const other = (await noble.generate()).publicKey;
    const bob = fromHex(BOB_PUBLIC);
    expect(toHex(await x.sharedSecret(own, bob))).toBe(SHARED);
    expect(toHex(await x.sharedSecret(own, bob))).toBe(SHARED);
    expect(toHex(await x.sharedSecret(own, other))).toBe(toHex(await noble.sharedSecret(mine, other)));
    expect(toHex(await x.sharedSecret(own, bob))).toBe(SHARED);
  });

  it('a channel on node:crypto and a channel on WebCrypto keep talking across turn changes', async () => {
    const settings = { suite: 'modern', room: 'node-x25519', passphrase: 'pw', saltHex: '' } as const;
    const x = nodeX25519();
    const sharedSecret = vi.fn(x.sharedSecret);
    const relay = new MemoryRelay(
      await createChannel({ ...settings, frames: nodeFrameCrypto, x25519: { ...x, sharedSecret } }),
      await createChannel(settings),
    );
    await relay.start();
    expect(relay.isReady('a') && relay.isReady('b')).toBe(true);
    // Every reply is a turn change: a DH step on each side, node:crypto's against WebCrypto's.
    for (let turn = 0; turn < 6; turn++) {
      const [from, to] = turn % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const);
      const text = `turn ${turn}`;
      const frame = frameOf(await relay.channel(from).send(text));
      expect(await relay.inject(to, frame)).toContainEqual({ type: 'message', text });
    }
    expect(sharedSecret).toHaveBeenCalled(); // the channel took the X25519 it was given
  });

  it('refuses a generated public key that is not an X25519 SubjectPublicKeyInfo', async () => {
    const spki = generateKeyPairSync('x25519').publicKey.export({ format: 'der', type: 'spki' });
    const ed25519 = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
    try {
      for (const wrong of [ed25519, spki.subarray(0, 43), Buffer.concat([spki, Buffer.of(0)])]) {
        generatedPublic.override = wrong;
        await expect(nodeX25519().generate()).rejects.toEqual(badInput);
      }
    } finally {
      generatedPublic.override = undefined;
    }
    expect((await nodeX25519().generate()).publicKey).toHaveLength(32);
  });

  it('never waits on itself when a collection lands inside a key generation (a Node 20 deadlock)', async () => {
    // With 1 MB semi-spaces, exporting each new public key as JWK hung this loop within 30 s
    // in 6 runs of 6; as DER it ends in about 6 s. A hang fails by the test's timeout.
    const generations = fileURLToPath(new URL('./support/x25519-generations.ts', import.meta.url));
    const ended = await runToEnd(process.execPath, [
      '--max-semi-space-size=1',
      '--import',
      'tsx',
      generations,
      '60000',
    ]);
    expect({ code: ended.code, stdout: ended.stdout }).toEqual({ code: 0, stdout: 'done 60000\n' });
  }, 90_000);
});
