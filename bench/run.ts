// npm run bench: every benchmark, each figure beside a baseline measured in
// the same run. Not part of npm test.
import { cpus } from 'node:os';
import { benchJcs } from './jcs.js';
import { printTable } from './measure.js';
import { benchMerkle } from './merkle.js';
import { benchPipeline } from './pipeline.js';
import { benchBundle } from './bundle.js';
import { benchIngest } from './ingest.js';
import { benchService } from './service.js';
import { benchStore } from './store.js';
import { benchStream } from './stream.js';
import { benchVerify } from './verify.js';

console.log(`# Trailseal benchmarks\n${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}`);
printTable('canonical JSON and strict parsing, one core', benchJcs());
printTable('Merkle tree, one core', benchMerkle());
printTable('append pipeline, one core', benchPipeline());
printTable('offline verification', await benchVerify(Number(process.env['TRAILSEAL_BENCH_RECORDS'] ?? 200_000)));
printTable('ingest threads: event-loop cost of a body, handed off or prepared in place', await benchIngest());
printTable('SQLite store write path: durable appends of sealed plans', await benchStore());
await benchService();
await benchStream();
printTable('evidence bundles', await benchBundle(Number(process.env['TRAILSEAL_BENCH_BUNDLE_RECORDS'] ?? 1_000_000)));
