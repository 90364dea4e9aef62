/** CPU time the whole machine has spent busy, to tell how much other processes took during a run. */
import { cpus } from 'node:os';

/** Busy time (user, nice, sys, irq) of all cores since boot, in microseconds (10 ms resolution). */
export function machineBusyMicros(): number {
  let ms = 0;
  for (const core of cpus()) ms += core.times.user + core.times.nice + core.times.sys + core.times.irq;
  return ms * 1000;
}
