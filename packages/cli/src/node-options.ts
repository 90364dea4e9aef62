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
