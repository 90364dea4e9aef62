import { setFlagsFromString } from 'node:v8';

/**
 * The Node options the `duet` command runs with. They are spelled out where Node reads them, in
 * bin/duet.mjs's first line (`env -S`) and in the root package.json's `duet` script; the bench
 * starts its terminal-client peers with them, and node-options.test.ts keeps all three in step.
 *
 * A young generation of 2 MB semi-spaces instead of V8's default, which grows to 16 MB by the
 * time a conversation is under way. Every file chunk is an ArrayBuffer outside the JavaScript
 * heap, and V8 counts those bytes against the old generation's room until its next full
 * collection; it starts one when that room is smaller than the young generation. With 16 MB, a
 * transfer's dead chunks piled up between the rare scavenges and forced a full collection every
 * few MiB. With 2 MB they die in frequent, cheap scavenges. In workload h (docs/benchmarks.md)
 * that took about a quarter off each side's CPU per MiB, and its RSS growth over a 64 MiB
 * transfer from about 40 MiB to 17.
 */
export const CLIENT_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=2'];

/**
 * V8's tier-up budget for the terminal client, four times V8 11.3's default of 66 KiB. A file
 * transfer runs each of its per-chunk functions about a thousand times per 64 MiB. At the
 * default budget dozens of them reach TurboFan mid-transfer, and compiling each (15–40 ms of a
 * background thread on a small machine) costs more CPU than its optimised code saves before
 * the transfer ends. With four times the budget only the really hot code (masking, hashing) is
 * optimised early: in workload h the sender spent about a fifth less CPU per MiB and the
 * receiver about a tenth (docs/benchmarks.md). Unlike the young generation's size, V8 reads
 * this budget each time it refills a function's, so it can be set once the process runs.
 *
 * Only on the V8 it was measured on (11.3, Node 20): the flag is V8's own, later versions tier
 * up by other counters, and Node exits on an option it doesn't know. Elsewhere V8 keeps its
 * defaults.
 */
export const TIER_UP = { v8: '11.3.', flag: '--interrupt-budget=270336' } as const;

/** Sets TIER_UP's flag if this is its V8; says whether it did. Call once, at start. */
export function tuneTierUp(
  v8Version: string = process.versions.v8,
  setFlags: (flags: string) => void = setFlagsFromString,
): boolean {
  if (!v8Version.startsWith(TIER_UP.v8)) return false;
  setFlags(TIER_UP.flag);
  return true;
}
