/**
 * `npm run fixtures`: writes the known-answer transcripts that known-answer.test.ts checks.
 * Run it only after a deliberate protocol change, then review the diff of the fixture like code.
 */
import { writeFileSync } from 'node:fs';
import { modernSession } from './modern-session.ts';

const target = new URL('../fixtures/modern-session.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(await modernSession(), null, 2)}\n`);
process.stdout.write(`wrote ${target.pathname}\n`);
