// trailseal-verify as a library: verify a bundle directory or one receipt.
// Input files are attacker-controlled; only the keys passed in are trusted.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_FILES, TrailsealError } from '@trailseal/format';
import { openBundle, verifyReceipt, type BundleOptions, type BundleReport, type ReceiptReport } from '@trailseal/verify';
import { verifyEventsFile, type PoolOptions } from './pool.js';

export { verifyEventsFile, type PoolOptions } from './pool.js';

function unusable(message: string): TrailsealError {
  return new TrailsealError('BUNDLE_UNUSABLE', message);
}

function readText(path: string, what: string): string {
  if (!existsSync(path)) throw unusable(`${what} ${path} does not exist`);
  if (!statSync(path).isFile()) throw unusable(`${what} ${path} is not a file`);
  return readFileSync(path, 'utf8');
}

/**
 * Verifies the bundle in `dir` (manifest.json, manifest.sig, events.jsonl).
 * Throws BUNDLE_UNUSABLE when it is not a bundle at all; otherwise every
 * problem found is in the report.
 */
export async function verifyBundleDir(dir: string, opts: BundleOptions & PoolOptions): Promise<BundleReport> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw unusable(`${dir} is not a directory holding a bundle`);
  const manifest = readText(join(dir, BUNDLE_FILES.manifest), 'the manifest');
  const signature = readText(join(dir, BUNDLE_FILES.signature), 'the manifest signature');
  const events = join(dir, BUNDLE_FILES.events);
  if (!existsSync(events) || !statSync(events).isFile()) throw unusable(`the events file ${events} does not exist`);
  const opened = openBundle(manifest, signature, opts);
  return verifyEventsFile(opened, events, opts);
}

/** Verifies one record (its canonical line, as stored) against its c2sp.org/tlog-proof receipt. */
export function verifyReceiptFiles(recordPath: string, proofPath: string, trustedKeys: readonly string[]): ReceiptReport {
  const record = readText(recordPath, 'the record');
  const proof = readText(proofPath, 'the proof');
  // A record saved from the API may end in one line feed; the record itself never does.
  return verifyReceipt(record.endsWith('\n') ? record.slice(0, -1) : record, proof, { trustedKeys });
}
