#!/usr/bin/env -S node --max-semi-space-size=2
// The `duet` command. Duet's packages are TypeScript run from source (as the relay is), so the
// bin registers tsx's loader and hands over to src/main.ts. The options on the first line are
// src/node-options.ts's (why they are there, and the test that keeps the copies in step).
import { register } from 'tsx/esm/api';

register();
// V8's tier-up budget, before any of the conversation's code runs (node-options.ts says why).
const { tuneTierUp } = await import('../src/node-options.ts');
tuneTierUp();
const { run } = await import('../src/main.ts');
// Exit at once: the conversation has left and closed its socket, and nothing else may hold the
// process open (a paused stdin pipe would).
process.exit(await run(process.argv.slice(2)));
