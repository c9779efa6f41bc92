// Peak memory of a process, for the tests and benchmarks that bound it.

import { readFileSync } from 'node:fs';

/**
 * Peak resident memory of a process so far, in MB: VmHWM from Linux /proc
 * (undefined elsewhere). Not resourceUsage().maxRSS for a child's own peak:
 * Linux carries a process's high-water mark across exec, so a child spawned
 * (forked) from a large process reports the parent's size (a 646 MB parent
 * made a 155 MB verification report 606 MB); VmHWM belongs to the program's
 * own memory map, worker threads included.
 */
export function peakRssMb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) / 1024;
  } catch {
    return undefined;
  }
}
