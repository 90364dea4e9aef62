/**
 * `node --import tsx x25519-turns.ts COUNT`: COUNT turn changes through node-x25519.ts (a new key
 * pair, then a shared secret with the one before), then prints `done COUNT`. Run with small
 * semi-spaces, collections come often enough to land inside a key's export: a process that
 * deadlocks there never prints (node-x25519.test.ts).
 */
import { nodeX25519 } from '../../src/node-x25519.ts';

const count = Number(process.argv[2] ?? 1000);
const x25519 = nodeX25519();
let previous = await x25519.generate();
for (let turn = 0; turn < count; turn++) {
  const next = await x25519.generate();
  await x25519.sharedSecret(next, previous.publicKey);
  previous = next;
}
process.stdout.write(`done ${count}\n`);
