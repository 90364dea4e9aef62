/** Readable random room codes and passphrases. Pure: randomness is passed in. */
import { randomBytes } from '../bytes.ts';

/** 32 symbols, no 0/o, 1/l look-alikes: 5 bits a character, and no modulo bias. */
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

function randomString(length: number, random: (n: number) => Uint8Array): string {
  let out = '';
  for (const byte of random(length)) out += ALPHABET[byte & 31];
  return out;
}

function groups(count: number, size: number, random: (n: number) => Uint8Array): string {
  return Array.from({ length: count }, () => randomString(size, random)).join('-');
}

/** A room code like `k3mq-8vth-x2pe`: 60 bits, so rooms cannot be found by guessing. */
export function generateRoomCode(random: (n: number) => Uint8Array = randomBytes): string {
  return groups(3, 4, random);
}

/** A passphrase like `k3mqz-8vtha-x2pe7-q9wnc`: 100 bits, enough even for the `des` suite's offline risk. */
export function generatePassphrase(random: (n: number) => Uint8Array = randomBytes): string {
  return groups(4, 5, random);
}
