/** The bench's results: their shape in latest.json, the ratios with their targets, the printed table. */
import { cpus, platform, release, totalmem } from 'node:os';
import type { BenchConfig, RelayName, WorkloadName } from './config.ts';
import type { ConversationResult } from './workloads/conversation.ts';
import type { CryptoResult } from './workloads/crypto.ts';
import type { BrowserRates } from './workloads/crypto-browser.ts';
import type { FileResult, FileVariant } from './workloads/files.ts';
import type { ScaleOutResult } from './workloads/scale-out.ts';
import type { IdleResult } from './workloads/idle.ts';
import type { PingPongResult } from './workloads/pingpong.ts';
import type { StreamResult } from './workloads/stream.ts';

export interface Machine {
  cpuModel: string;
  cpuCount: number;
  totalMemoryGiB: number;
  node: string;
  os: string;
}

export interface RelayResults {
  pingpong?: PingPongResult;
  streamB?: StreamResult;
  streamC?: StreamResult;
  idle?: IdleResult;
  /** Workloads that failed for this relay, with the error. */
  errors: Partial<Record<WorkloadName, string>>;
}

export interface Ratio {
  name: string;
  value: number;
  /** Human-readable target, or undefined for a figure given for information. */
  target?: string;
  met?: boolean;
}

export interface BenchResults {
  startedAt: string;
  elapsedSeconds: number;
  machine: Machine;
  /** CPU other processes used just before the run, as a share of one core. */
  backgroundCpuPercent: number;
  config: BenchConfig;
  relays: Partial<Record<RelayName, RelayResults>>;
  ratios: Ratio[];
  /** With BENCH_REPEAT > 1: the ratios of every run of workloads a–c (`relays` holds the last). */
  ratioRuns?: Ratio[][];
  crypto?: CryptoResult;
  cryptoError?: string;
  scaleOut?: ScaleOutResult | { skipped: string };
  scaleOutError?: string;
  conversation?: ConversationResult;
  conversationError?: string;

  files?: FileResult;
  filesError?: string;
}

export function describeMachine(): Machine {
  const cores = cpus();
  return {
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    cpuCount: cores.length,
    totalMemoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()}`,
  };
}

function ratio(
  name: string,
  numerator: number | undefined,
  denominator: number | undefined,
  target?: { text: string; met: (value: number) => boolean },
): Ratio | undefined {
  if (numerator === undefined || denominator === undefined || !(denominator > 0)) return undefined;
  const value = numerator / denominator;
  return target ? { name, value, target: target.text, met: target.met(value) } : { name, value };
}

const FILE_RATIO = 'duet file / plain ws stream, minimal relay MiB/s (h)';
const FILE_TARGET = { text: '>= 0.5', met: (value: number) => value >= 0.5 };

/**
 * Workload h's target ratio in each turn: the Duet run over the plain run of the same turn,
 * which ran just before or after it. The plain stream's speed drifts by a sixth or more from
 * one turn to the next on a small shared machine; the turns show how often the target is met,
 * where one invocation's medians show one value.
 */
export function fileTurnRatios(files: FileResult | undefined): Ratio[][] {
  const turns = [...new Set(files?.runs.map((run) => run.turn))];
  return turns.flatMap((turn) => {
    const of = (variant: FileVariant) =>
      files?.runs.find((run) => run.turn === turn && run.variant === variant)?.mibPerSecond;
    const item = ratio(FILE_RATIO, of('duet'), of('plainMinimal'), FILE_TARGET);
    return item ? [[item]] : [];
  });
}

/** The ratios the issue asks for (targets), then a few for information; only those measured. */
export function computeRatios(relays: BenchResults['relays'], files?: FileResult): Ratio[] {
  const duet = relays.duet;
  const minimal = relays['minimal-ws'];
  const socketIo = relays['socket.io'];
  const idleKiB = duet?.idle?.rssKiBPerConnection;
  const ratios = [
    ratio(
      'duet / minimal-ws msgs/s (b)',
      duet?.streamB?.messagesPerSecond,
      minimal?.streamB?.messagesPerSecond,
      {
        text: '>= 1.0',
        met: (value) => value >= 1.0,
      },
    ),
    ratio(
      'duet / socket.io msgs/s (b)',
      duet?.streamB?.messagesPerSecond,
      socketIo?.streamB?.messagesPerSecond,
      {
        text: '>= 2.5',
        met: (value) => value >= 2.5,
      },
    ),
    ratio('duet / minimal-ws rtt p50 (a)', duet?.pingpong?.rttP50Ms, minimal?.pingpong?.rttP50Ms, {
      text: '<= 1.1',
      met: (value) => value <= 1.1,
    }),
    ratio('duet / minimal-ws rtt p99 (a)', duet?.pingpong?.rttP99Ms, minimal?.pingpong?.rttP99Ms, {
      text: '<= 1.3',
      met: (value) => value <= 1.3,
    }),
    idleKiB === undefined
      ? undefined
      : { name: 'duet KiB per idle connection (d, RSS)', value: idleKiB, target: '< 30', met: idleKiB < 30 },
    ratio(
      'duet / minimal-ws msgs/s (c)',
      duet?.streamC?.messagesPerSecond,
      minimal?.streamC?.messagesPerSecond,
    ),
    ratio(
      'duet / socket.io msgs/s (c)',
      duet?.streamC?.messagesPerSecond,
      socketIo?.streamC?.messagesPerSecond,
    ),
    ratio('duet / minimal-ws latency p50 (b)', duet?.streamB?.latencyP50Ms, minimal?.streamB?.latencyP50Ms),
    ratio(
      'duet / minimal-ws relay CPU per msg (b)',
      duet?.streamB?.serverCpuMicrosPerMessage,
      minimal?.streamB?.serverCpuMicrosPerMessage,
    ),
    ratio(
      'duet / minimal-ws relay CPU per msg (c)',
      duet?.streamC?.serverCpuMicrosPerMessage,
      minimal?.streamC?.serverCpuMicrosPerMessage,
    ),
    ratio(
      'socket.io / duet relay CPU per msg (b)',
      socketIo?.streamB?.serverCpuMicrosPerMessage,
      duet?.streamB?.serverCpuMicrosPerMessage,
    ),
    ratio(
      FILE_RATIO,
      files?.summary.duet?.mibPerSecond.median,
      files?.summary.plainMinimal?.mibPerSecond.median,
      FILE_TARGET,
    ),
    ratio(
      'duet file / plain stream, duet relay MiB/s (h)',
      files?.summary.duet?.mibPerSecond.median,
      files?.summary.plainDuet?.mibPerSecond.median,
    ),
    ratio(
      'duet file at default relay limits / plain stream, duet relay (h)',
      files?.summary.duetDefault?.mibPerSecond.median,
      files?.summary.plainDuet?.mibPerSecond.median,
    ),
    files?.summary.duet === undefined
      ? undefined
      : {
          name: `duet file receiver RSS growth MiB (h, worst of ${files.summary.duet.runs})`,
          value: files.summary.duet.receiverGrowthMiB.max,
          target: '< 64',
          met: files.summary.duet.receiverGrowthMiB.max < 64,
        },
  ];
  return ratios.filter((item): item is Ratio => item !== undefined);
}

export interface RatioSummary {
  name: string;
  median: number;
  min: number;
  max: number;
  target?: string;
  /** Runs that met the target, of `runs`. */
  met?: number;
  runs: number;
}

/** Each ratio over several runs: its median (the middle run, or the mean of the middle two) and range. */
export function summariseRatioRuns(runs: readonly Ratio[][]): RatioSummary[] {
  const names = [...new Set(runs.flatMap((run) => run.map((item) => item.name)))];
  return names.map((name) => {
    const items = runs.flatMap((run) => run.filter((item) => item.name === name));
    const values = items.map((item) => item.value).sort((a, b) => a - b);
    const middle = Math.floor(values.length / 2);
    const median =
      values.length % 2 === 1
        ? (values[middle] ?? NaN)
        : ((values[middle - 1] ?? NaN) + (values[middle] ?? NaN)) / 2;
    const target = items.find((item) => item.target !== undefined)?.target;
    return {
      name,
      median,
      min: values[0] ?? NaN,
      max: values[values.length - 1] ?? NaN,
      runs: items.length,
      ...(target === undefined ? {} : { target, met: items.filter((item) => item.met === true).length }),
    };
  });
}

/** A table of each ratio's median, range and runs met over several runs. */
function ratioSummaryLines(title: string, runs: readonly Ratio[][]): string[] {
  const rows = [
    [title, 'median', 'range', 'target', 'runs met'],
    ...summariseRatioRuns(runs).map((item) => [
      item.name,
      item.median.toFixed(2),
      `${item.min.toFixed(2)}–${item.max.toFixed(2)}`,
      item.target ?? '(info)',
      item.met === undefined ? '' : `${item.met}/${item.runs}`,
    ]),
  ];
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((cells) => cells[i]?.length ?? 0)));
  return rows.map((cells) => pad(cells, widths));
}

const integer = (value: number): string => Math.round(value).toLocaleString('en-US');
/** `a` as a multiple of `b`, e.g. "0.98×". */
const times = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
const fixed =
  (digits: number) =>
  (value: number): string =>
    value.toFixed(digits);

type Row = [
  label: string,
  pick: (results: RelayResults) => number | undefined,
  format: (value: number) => string,
];

function streamRows(key: 'streamB' | 'streamC', tag: string, pairs: number): Row[] {
  const at = `${tag}  ${pairs} pairs`;
  return [
    [`${at} msgs/s delivered`, (r) => r[key]?.messagesPerSecond, integer],
    [`${at} latency p50 ms (one-way)`, (r) => r[key]?.latencyP50Ms, fixed(2)],
    [`${at} latency p99 ms (one-way)`, (r) => r[key]?.latencyP99Ms, fixed(2)],
    [`${at} relay CPU us/msg`, (r) => r[key]?.serverCpuMicrosPerMessage, fixed(2)],
    [`${at} relay CPU %`, (r) => r[key]?.serverCpuPercent, integer],
    [`${at} load-generator CPU %`, (r) => r[key]?.clientCpuPercent, integer],
    [`${at} other processes CPU %`, (r) => r[key]?.otherCpuPercent, integer],
  ];
}

function pad(cells: string[], widths: number[]): string {
  return cells
    .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
    .join('  ')
    .trimEnd();
}

/** A figure's median of its rounds, and their range. */
function medianAndRange(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 ? sorted[middle]! : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return `${integer(median)} (${integer(sorted[0] ?? 0)}–${integer(sorted.at(-1) ?? 0)})`;
}

/** The message rates measured in Chromium, median and range of the rounds, or why not. */
function browserRateLines(rates: BrowserRates): string[] {
  if ('skipped' in rates) return [`   in Chromium: skipped, ${rates.skipped}`];
  const { symmetric, sameTurn, turnChange } = rates.rounds;
  return [
    `   in ${rates.browser}, 100 B send+receive msgs/s, median (range) of ${symmetric.length} rounds:`,
    `     Double Ratchet, no turn change                    ${medianAndRange(sameTurn)}`,
    `     turn change at every message                      ${medianAndRange(turnChange)}`,
    `     symmetric ratchet (v1), same run                  ${medianAndRange(symmetric)}`,
  ];
}

/** The whole printout: machine, one column per relay, the ratios, the crypto figures. */
export function formatReport(results: BenchResults): string {
  const { machine, config } = results;
  const names = Object.keys(results.relays) as RelayName[];
  const lines: string[] = [
    `Duet relay benchmark, ${results.startedAt}${config.quick ? ' (BENCH_QUICK: smoke sizes)' : ''}`,
    `machine: ${machine.cpuModel} x ${machine.cpuCount}, ${machine.totalMemoryGiB} GiB, node ${machine.node}, ${machine.os}`,
    `other processes at start: ${results.backgroundCpuPercent.toFixed(0)} % of a core`,
    `streaming clients write: ${config.clientWrites === 'batched' ? 'once per read they answer' : 'once per frame (BENCH_CLIENT_WRITES=each)'}`,
    '',
  ];

  const rows: Row[] = [
    ['a  ping-pong rtt p50 ms', (r) => r.pingpong?.rttP50Ms, fixed(3)],
    ['a  ping-pong rtt p99 ms', (r) => r.pingpong?.rttP99Ms, fixed(3)],
    ['a  ping-pong msgs/s', (r) => r.pingpong?.messagesPerSecond, integer],
    ...streamRows('streamB', 'b', config.pairsB),
    ...streamRows('streamC', 'c', config.pairsC),
    [`d  ${config.idleConnections} idle: KiB/conn RSS`, (r) => r.idle?.rssKiBPerConnection, fixed(1)],
    [`d  ${config.idleConnections} idle: KiB/conn heap`, (r) => r.idle?.heapKiBPerConnection, fixed(1)],
    [`d  ${config.idleConnections} idle: connect s`, (r) => r.idle?.connectSeconds, fixed(1)],
  ];
  const table = [
    ['workload', ...names],
    ...rows.map(([label, pick, format]) => [
      label,
      ...names.map((name) => {
        const relay = results.relays[name];
        const value = relay ? pick(relay) : undefined;
        return value === undefined ? '-' : format(value);
      }),
    ]),
  ].filter((cells) => cells.slice(1).some((cell) => cell !== '-') || cells[0] === 'workload');
  const widths = table[0]?.map((_, i) => Math.max(...table.map((cells) => cells[i]?.length ?? 0))) ?? [];
  lines.push(...table.map((cells) => pad(cells, widths)));

  for (const name of names) {
    for (const [workload, error] of Object.entries(results.relays[name]?.errors ?? {})) {
      lines.push(`!! ${name} ${workload} failed: ${error}`);
    }
  }

  if (results.ratios.length > 0) {
    lines.push('');
    const ratioRows = [
      ['ratio (same run)', 'value', 'target', 'met'],
      ...results.ratios.map((item) => [
        item.name,
        item.value.toFixed(2),
        item.target ?? '(info)',
        item.met === undefined ? '' : item.met ? 'yes' : 'NO',
      ]),
    ];
    const ratioWidths = [0, 1, 2, 3].map((i) => Math.max(...ratioRows.map((cells) => cells[i]?.length ?? 0)));
    lines.push(...ratioRows.map((cells) => pad(cells, ratioWidths)));
  }

  if (results.ratioRuns && results.ratioRuns.length > 1) {
    lines.push('', ...ratioSummaryLines(`ratio over ${results.ratioRuns.length} runs`, results.ratioRuns));
  }

  const crypto = results.crypto;
  if (crypto) {
    lines.push(
      '',
      'e  crypto, in process              des                 modern',
      `   key derivation / handshake ms   ${fixed(2)(crypto.des.keyDerivationMs).padEnd(20)}${fixed(2)(crypto.modern.handshakeMs)}`,
      `   100 B encrypt+decrypt msgs/s    ${integer(crypto.des.messagesPerSecond).padEnd(20)}${integer(crypto.modern.messagesPerSecond)} (Double Ratchet, no turn change)`,
      `     turn change at every message                      ${integer(crypto.modern.turnChangeMessagesPerSecond)} (a DH step each; ${integer(crypto.modern.turnChangeNobleMessagesPerSecond)} with @noble/curves)`,
      `     symmetric ratchet (v1), same run                  ${integer(crypto.modern.symmetricMessagesPerSecond)} (baseline; ${times(crypto.modern.messagesPerSecond, crypto.modern.symmetricMessagesPerSecond)} and ${times(crypto.modern.turnChangeMessagesPerSecond, crypto.modern.symmetricMessagesPerSecond)} of it)`,
      `   1 MiB encrypt MiB/s             ${fixed(1)(crypto.des.encryptMiBPerSecond).padEnd(20)}${fixed(1)(crypto.modern.aeadSealMiBPerSecond)} (AEAD layer, aead.ts)`,
      `   1 MiB decrypt MiB/s             ${fixed(1)(crypto.des.decryptMiBPerSecond).padEnd(20)}${fixed(1)(crypto.modern.aeadOpenMiBPerSecond)} (AEAD layer, aead.ts)`,
    );
    lines.push(...browserRateLines(crypto.modern.inBrowser));
  }
  if (results.cryptoError) lines.push(`!! crypto failed: ${results.cryptoError}`);
  const scale = results.scaleOut;
  if (scale && 'skipped' in scale) lines.push('', `f  scale-out skipped: ${scale.skipped}`);
  else if (scale) {
    const row = (label: string, pick: (r: ScaleOutResult['oneNode']) => string) =>
      `   ${label.padEnd(34)}${pick(scale.oneNode).padEnd(14)}${pick(scale.twoNodesRedis)}`;
    lines.push(
      '',
      `f  scale-out, ${scale.oneNode.pairs} pairs streaming     one node      two nodes + Redis (pairs split)`,
      row('msgs/s delivered', (r) => integer(r.messagesPerSecond)),
      row(
        'latency p50 / p99 ms (one-way)',
        (r) => `${fixed(1)(r.latencyP50Ms)} / ${fixed(1)(r.latencyP99Ms)}`,
      ),
      row('relay CPU us/msg (all nodes)', (r) => fixed(2)(r.serverCpuMicrosPerMessage)),
      `   Redis CPU us/msg (not above)      ${''.padEnd(14)}${scale.redisCpuMicrosPerMessage === undefined ? 'n/a' : fixed(2)(scale.redisCpuMicrosPerMessage)}`,
      `   two nodes / one node msgs/s       ${fixed(2)(scale.twoNodesRedis.messagesPerSecond / scale.oneNode.messagesPerSecond)}`,
      `   ${'at rest: rtt p50 / p99 ms (a)'.padEnd(34)}${`${fixed(3)(scale.rest.oneNode.rttP50Ms)} / ${fixed(3)(scale.rest.oneNode.rttP99Ms)}`.padEnd(14)}${fixed(3)(scale.rest.twoNodesRedis.rttP50Ms)} / ${fixed(3)(scale.rest.twoNodesRedis.rttP99Ms)}`,
    );
  }
  if (results.scaleOutError) lines.push(`!! scale-out failed: ${results.scaleOutError}`);
  const conversation = results.conversation;
  if (conversation) {
    lines.push(
      '',
      `g  conversation, ${conversation.messages} x 100 B    des (until sent)    modern (until delivered)`,
      `   msgs/s end to end               ${integer(conversation.des.messagesPerSecond).padEnd(20)}${integer(conversation.modern.messagesPerSecond)}`,
    );
  }
  if (results.conversationError) lines.push(`!! conversation failed: ${results.conversationError}`);

  if (results.files) {
    lines.push('', ...formatFiles(results.files));
    const turns = fileTurnRatios(results.files);
    if (turns.length > 1) lines.push('', ...ratioSummaryLines(`h, per turn (${turns.length} turns)`, turns));
  }
  if (results.filesError) lines.push(`!! files failed: ${results.filesError}`);
  lines.push('', `took ${results.elapsedSeconds.toFixed(0)} s`);
  return lines.join('\n');
}

const FILE_LABELS = [
  ['plainMinimal', 'plain ws stream, minimal relay'],
  ['plainDuet', 'plain ws stream, duet relay'],
  ['duet', 'duet file transfer, duet relay'],
  ['duetDefault', 'duet file, relay default limits'],
] as const;

/** Workload h: per variant, MiB/s (median and range), each side's RSS growth and peak, and CPU per MiB (medians). */
function formatFiles(files: FileResult): string[] {
  const lines = [
    `h  a ${files.sizeMiB} MiB file, disk to disk   runs  MiB/s median (min-max)  RSS growth MiB send / receive (worst)  peak RSS MiB send / receive  CPU ms per MiB send / receive / relay`,
  ];
  for (const [key, label] of FILE_LABELS) {
    const s = files.summary[key];
    if (!s) continue;
    const speed = `${fixed(1)(s.mibPerSecond.median)} (${fixed(1)(s.mibPerSecond.min)}-${fixed(1)(s.mibPerSecond.max)})`;
    const growth = `${fixed(1)(s.senderGrowthMiB.max)} / ${fixed(1)(s.receiverGrowthMiB.max)}`;
    const peak = `${fixed(0)(s.senderPeakMiB)} / ${fixed(0)(s.receiverPeakMiB)}`;
    const cpu = [s.cpuMsPerMiB.sender, s.cpuMsPerMiB.receiver, s.cpuMsPerMiB.relay].map(fixed(1)).join(' / ');
    lines.push(
      `   ${label.padEnd(36)}${String(s.runs).padStart(4)}  ${speed.padEnd(22)}${growth.padEnd(39)}${peak.padEnd(29)}${cpu}`,
    );
  }
  for (const failure of files.failures)
    lines.push(`!! files: a ${failure.variant} run failed: ${failure.error}`);
  return lines;
}
