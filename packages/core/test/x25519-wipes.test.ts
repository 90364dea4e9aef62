/**
 * WebCrypto's fromSecret (crypto/x25519.ts) leaves no copy of the secret behind: the working copy
 * it builds the PKCS #8 key from is wiped, whether WebCrypto takes the key or refuses it. The
 * copy is seen through concatBytes, which is wrapped here (in a file of its own, as vi.mock holds
 * for a whole file).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { concatBytes, fromHex } from '../src/bytes.ts';
import { webCryptoX25519 } from '../src/crypto/x25519.ts';

vi.mock('../src/bytes.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/bytes.ts')>();
  return { ...actual, concatBytes: vi.fn(actual.concatBytes) };
});

const SECRET = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a';

/** The 32-byte arrays fromSecret handed to concatBytes: its working copies of the secret. */
function secretCopies(): Uint8Array[] {
  return vi
    .mocked(concatBytes)
    .mock.calls.flat()
    .filter((part) => part.length === 32);
}

describe('X25519 from WebCrypto: fromSecret', () => {
  afterEach(() => {
    vi.mocked(concatBytes).mockClear();
    vi.restoreAllMocks();
  });

  it('wipes its working copy of the secret', async () => {
    await webCryptoX25519().fromSecret(fromHex(SECRET));
    const copies = secretCopies();
    expect(copies).toHaveLength(1);
    expect(copies[0]?.every((b) => b === 0)).toBe(true);
  });

  it('wipes its working copy when WebCrypto refuses the key', async () => {
    vi.spyOn(crypto.subtle, 'importKey').mockRejectedValueOnce(new Error('refused'));
    await expect(webCryptoX25519().fromSecret(fromHex(SECRET))).rejects.toThrow('refused');
    const copies = secretCopies();
    expect(copies).toHaveLength(1);
    expect(copies[0]?.every((b) => b === 0)).toBe(true);
  });
});
