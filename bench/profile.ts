/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, e.g. the duet relay's with BENCH_CPU_PROF):
 * where the time went by self time, by file or package, and the inclusive time of the relay's
 * own functions (server/src/).
 *
 *   npx tsx bench/profile.ts <file.cpuprofile> [rows]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A readable place for a frame: `relay.ts`, `ws/lib/sender.js`, `node:net`, or `(garbage collector)`. */
function where(url: string): string {
  if (url === '') return '';
  const modules = /node_modules\/(.+)$/.exec(url);
  if (modules?.[1]) return modules[1];
  const repo = /\/(server\/src\/.+|packages\/.+|bench\/.+)$/.exec(url);
  if (repo?.[1]) return repo[1];
  return url.replace(/^file:\/\//, '');
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  return url ? `${name}  ${where(url)}:${lineNumber + 1}` : name;
}

/** The package or file a frame belongs to, for the coarse table. */
function group(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (url === '') return functionName; // (program), (idle), (garbage collector), native
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules?.[1]) return modules[1];
  if (url.startsWith('node:')) return url;
  return where(url);
}

function top(map: Map<string, number>, total: number, rows: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, rows)
    .map(
      ([key, micros]) =>
        `${((100 * micros) / total).toFixed(1).padStart(6)} %  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${key}`,
    );
}

function main(): void {
  const [file, rowsArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: tsx bench/profile.ts <file.cpuprofile> [rows]');
  const rows = Number(rowsArg ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<string, number>();
  const groups = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let busy = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    total += delta;
    if (node.callFrame.functionName !== '(idle)') busy += delta;
    self.set(label(node), (self.get(label(node)) ?? 0) + delta);
    groups.set(group(node), (groups.get(group(node)) ?? 0) + delta);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at);
      if (!frame || !frame.callFrame.url.includes('/server/src/')) continue;
      const key = label(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + delta);
    }
  });

  console.log(
    `${file}: ${(total / 1e6).toFixed(1)} s sampled, ${((100 * busy) / total).toFixed(0)} % not idle`,
  );
  console.log('\nself time by package or file (share of all samples):');
  console.log(top(groups, total, rows).join('\n'));
  console.log('\nself time by function:');
  console.log(top(self, total, rows).join('\n'));
  console.log("\ninclusive time of the relay's own functions (server/src):");
  console.log(top(inclusive, total, rows).join('\n'));
}

main();
