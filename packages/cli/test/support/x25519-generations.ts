/**
 * `node --import tsx x25519-generations.ts COUNT`: COUNT key pairs from node-x25519.ts's `generate`
 * (what every turn change starts with), then prints `done COUNT`. Run with small semi-spaces,
 * collections come often enough to land inside a public key's export: a process that deadlocks
 * there never prints (node-x25519.test.ts).
 */
import { nodeX25519 } from '../../src/node-x25519.ts';

const count = Number(process.argv[2] ?? 1000);
const x25519 = nodeX25519();
for (let made = 0; made < count; made++) await x25519.generate();
process.stdout.write(`done ${count}\n`);
