// The trailseal-verify command (docs/spec/bundle.md, "Verifying a bundle").
//
//   trailseal-verify DIR --key VKEY [--key VKEY]... [--prev-checkpoint FILE] [--json] [--threads N]
//   trailseal-verify receipt RECORD.json PROOF --key VKEY [--json]
//
// Exit status: 0 PASS, 1 FAIL (every problem is printed), 2 unusable input
// (a missing file, not a bundle, a malformed key, a usage error).
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isTrailsealError, parseVerifierKey } from '@trailseal/format';
import { describeSelection, type BundleReport, type Problem, type ReceiptReport } from '@trailseal/verify';
import { verifyBundleDir, verifyReceiptFiles } from './index.js';

const USAGE = `usage:
  trailseal-verify DIR --key VKEY [--key VKEY]... [--prev-checkpoint FILE] [--json] [--threads N] [--quiet]
  trailseal-verify receipt RECORD.json PROOF --key VKEY [--json]
VKEY is a verifier key (origin+keyid+base64) or a file holding one.
Exit status: 0 PASS, 1 FAIL, 2 unusable input.
`;

class Unusable extends Error {}

function keysOf(values: string[] | undefined): string[] {
  if (values === undefined || values.length === 0) throw new Unusable('--key VKEY is required: the verifier key you trust (from the tenant, not from the bundle)');
  return values.map((v) => {
    const key = existsSync(v) ? readFileSync(v, 'utf8').trim() : v;
    try {
      parseVerifierKey(key);
    } catch (e) {
      throw new Unusable(`--key ${v.length > 80 ? `${v.slice(0, 80)}...` : v}: ${(e as Error).message}`);
    }
    return key;
  });
}

function where(p: Problem): string {
  return [p.seq !== undefined ? `seq ${p.seq}` : '', p.line !== undefined ? `line ${p.line}` : ''].filter((x) => x !== '').join(', ');
}

function printBundle(dir: string, r: BundleReport): void {
  const out: string[] = [];
  if (r.ok) out.push(`PASS  ${dir}`);
  else out.push(`FAIL  ${dir}: ${r.problemCount} problem${r.problemCount === 1 ? '' : 's'}`);
  out.push(`  tenant       ${r.tenant ?? '?'} (log ${r.origin ?? '?'})`);
  out.push(`  selection    ${describeSelection(r.selection)}`);
  out.push(`  records      ${r.count}${r.firstSeq !== undefined ? ` (seq ${r.firstSeq}..${r.lastSeq ?? r.firstSeq})` : ''}`);
  out.push(`  checkpoint   size ${r.checkpointSize ?? '?'}`);
  if (r.timeSpan !== undefined) out.push(`  time span    ${r.timeSpan.from} to ${r.timeSpan.to}`);
  out.push(`  MACs         ${r.macVerified > 0 ? `${r.macVerified} verified with disclosed keys` : 'not checked (no MAC keys disclosed)'}${r.macSkipped > 0 && r.macVerified > 0 ? `, ${r.macSkipped} without a key` : ''}`);
  if (r.complete !== undefined) out.push(`  completeness ${r.complete ? `no record of the window is missing (as of checkpoint size ${r.checkpointSize ?? '?'})` : 'NOT proven'}`);
  if (r.consistentWith !== undefined) out.push(`  consistency  extends the earlier checkpoint of size ${r.consistentWith}`);
  for (const p of r.problems) out.push(`  ${p.code.padEnd(28)} ${where(p).padEnd(20)} ${p.message}`);
  if (r.problemCount > r.problems.length) out.push(`  ... and ${r.problemCount - r.problems.length} more`);
  process.stdout.write(`${out.join('\n')}\n`);
}

function printReceipt(r: ReceiptReport): void {
  const out = [r.ok ? 'PASS  receipt' : `FAIL  receipt: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}`];
  out.push(`  seq          ${r.seq ?? '?'}`, `  leaf hash    ${r.leafHash}`);
  if (r.checkpoint !== undefined) out.push(`  checkpoint   ${r.checkpoint.origin} size ${r.checkpoint.size}`);
  for (const p of r.problems) out.push(`  ${p.code.padEnd(28)} ${p.message}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      key: { type: 'string', multiple: true },
      'prev-checkpoint': { type: 'string' },
      json: { type: 'boolean' },
      threads: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const json = values.json === true;
  if (positionals[0] === 'receipt') {
    if (positionals.length !== 3) throw new Unusable('receipt takes RECORD.json and PROOF');
    const r = verifyReceiptFiles(positionals[1]!, positionals[2]!, keysOf(values.key));
    if (json) process.stdout.write(`${JSON.stringify({ verdict: r.ok ? 'PASS' : 'FAIL', ...r, checkpoint: r.checkpoint === undefined ? undefined : { origin: r.checkpoint.origin, size: r.checkpoint.size } })}\n`);
    else printReceipt(r);
    return r.ok ? 0 : 1;
  }
  if (positionals.length !== 1) throw new Unusable('give one bundle directory');
  const dir = positionals[0]!;
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (threads !== undefined && (!Number.isSafeInteger(threads) || threads < 0 || threads > 256)) throw new Unusable('--threads must be an integer from 0 to 256');
  const prev = values['prev-checkpoint'];
  if (prev !== undefined && !existsSync(prev)) throw new Unusable(`--prev-checkpoint ${prev} does not exist`);
  const showProgress = !json && values.quiet !== true && process.stderr.isTTY;
  let shown = -1;
  const report = await verifyBundleDir(dir, {
    trustedKeys: keysOf(values.key),
    ...(prev !== undefined ? { prevCheckpoint: readFileSync(prev, 'utf8') } : {}),
    ...(threads !== undefined ? { threads } : {}),
    ...(showProgress
      ? {
          progress: (done: number, total: number) => {
            const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
            if (pct !== shown) process.stderr.write(`\rverifying ${pct}%`);
            shown = pct;
          },
        }
      : {}),
  });
  if (showProgress) process.stderr.write('\r              \r');
  if (json) process.stdout.write(`${JSON.stringify({ verdict: report.ok ? 'PASS' : 'FAIL', ...report })}\n`);
  else printBundle(dir, report);
  return report.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const json = process.argv.includes('--json');
    const unusable = e instanceof Unusable || isTrailsealError(e, 'BUNDLE_UNUSABLE') || (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'));
    const message = e instanceof Error ? e.message : String(e);
    if (json) process.stdout.write(`${JSON.stringify({ verdict: 'UNUSABLE', error: { code: isTrailsealError(e) ? e.code : 'BUNDLE_UNUSABLE', message } })}\n`);
    else process.stderr.write(`trailseal-verify: ${message}\n${unusable ? `\n${USAGE}` : ''}`);
    // Never 1: FAIL is a verdict on the evidence, which an error did not reach.
    process.exitCode = 2;
  },
);
