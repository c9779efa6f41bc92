// Child process of bench/bundle.ts: verifies one bundle directory the way
// trailseal-verify does and reports the time and the process's peak resident
// memory (VmHWM: worker threads share the process, so they are included).
//
//   node bench/dist/bench/bundle-verify.js DIR VERIFIER_KEY [THREADS]
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { verifyBundleDir } from '@trailseal/verify-cli';
import { peakRssMb } from '../test-support/memory.js';

const [dir, key, threadArg] = process.argv.slice(2);
const threads = threadArg === undefined ? availableParallelism() : Number(threadArg);
const start = performance.now();
const report = await verifyBundleDir(dir!, { trustedKeys: [key!], threads });
const secs = (performance.now() - start) / 1000;
const usage = process.resourceUsage();
// CPU seconds of the whole process, worker threads included: steadier than wall time on a shared machine.
const cpuSecs = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
const maxRssMb = peakRssMb(process.pid) ?? usage.maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ secs, cpuSecs, ok: report.ok, count: report.count, problems: report.problems.slice(0, 5), threads, maxRssMb })}\n`);
