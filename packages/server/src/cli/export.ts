// `trailseal export`: reads the export stream of POST /v1/exports
// (docs/spec/bundle.md, "Export stream") and writes the three bundle files.
// The events file is written as the bytes arrive (constant memory) under a
// temporary name, and renamed only once the trailer (manifest and signature)
// has arrived and matches what was written: a cut or failed stream leaves no
// bundle behind.
import { createHash } from 'node:crypto';
import { closeSync, createWriteStream, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { apiRequest } from './http.js';
import { BUNDLE_FILES, TrailsealError, parseCheckpoint, parseManifest, parseNoteUnverified } from '@trailseal/format';

export interface ExportOptions {
  readonly url: string;
  readonly apiKey: string;
  readonly out: string;
  /** The body of POST /v1/exports. */
  readonly request: Record<string, unknown>;
  /** Called about four times a second with the records written so far and the total, when known. */
  readonly progress?: (written: number, total: number | undefined) => void;
}

export interface ExportResult {
  readonly dir: string;
  readonly count: number;
  readonly bytes: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  readonly checkpointSize: number;
  readonly exportSeq: number;
}

const TRAILER = Buffer.from('{"trailseal_export');
const LF = 0x0a;

function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function write(out: WriteStream, chunk: Buffer): Promise<void> {
  return out.write(chunk) ? Promise.resolve() : new Promise((resolve) => out.once('drain', resolve));
}

export async function exportBundle(o: ExportOptions): Promise<ExportResult> {
  for (const f of Object.values(BUNDLE_FILES)) {
    if (existsSync(join(o.out, f))) throw new TrailsealError('QUERY_INVALID', `${join(o.out, f)} exists: export into an empty directory`, { field: 'out' });
  }
  mkdirSync(o.out, { recursive: true });
  const res = await apiRequest(o.url, o.apiKey, 'POST', '/v1/exports', o.request, 'application/x-ndjson');
  if (res.body === null) throw new Error('the export answer has no body');
  const totalHeader = res.headers.get('trailseal-export-records');
  const total = totalHeader === null ? undefined : Number(totalHeader);
  const partial = join(o.out, `${BUNDLE_FILES.events}.partial`);
  // A deep buffer lets the socket be read while earlier pieces are being
  // written: with the default 16 KiB every piece waited for its own write.
  const out = createWriteStream(partial, { highWaterMark: 4 * 1024 * 1024 });
  const digest = createHash('sha256');
  let bytes = 0;
  let lines = 0;
  let pending: Buffer = Buffer.alloc(0);
  let trailer: Buffer | undefined;
  const timer = o.progress === undefined ? undefined : setInterval(() => o.progress!(lines, total), 250);
  try {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value: piece } = await reader.read();
      if (done) break;
      const data = pending.length === 0 ? Buffer.from(piece) : Buffer.concat([pending, piece]);
      if (trailer !== undefined) {
        trailer = Buffer.concat([trailer, data]);
        pending = Buffer.alloc(0);
        continue;
      }
      const last = data.lastIndexOf(LF);
      if (last < 0) {
        pending = data;
        continue;
      }
      let complete = data.subarray(0, last + 1);
      pending = data.subarray(last + 1);
      // The trailer is the last line and the only one starting {"trailseal_export.
      const at = complete.indexOf(TRAILER) === 0 ? 0 : complete.indexOf(Buffer.concat([Buffer.of(LF), TRAILER]));
      if (at >= 0) {
        const cut = at === 0 ? 0 : at + 1;
        trailer = Buffer.concat([complete.subarray(cut), pending]);
        pending = Buffer.alloc(0);
        complete = complete.subarray(0, cut);
      }
      for (let i = complete.indexOf(LF); i >= 0; i = complete.indexOf(LF, i + 1)) lines++;
      digest.update(complete);
      bytes += complete.length;
      await write(out, complete);
    }
  } finally {
    if (timer !== undefined) clearInterval(timer);
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }
  o.progress?.(lines, total);
  try {
    if (trailer === undefined) throw new Error('the export stream ended before its manifest: the connection was cut or the service stopped; nothing was kept');
    const end = JSON.parse(trailer.toString('utf8')) as { trailseal_export?: { manifest: string; signature: string }; trailseal_export_error?: { code: string; detail: string } };
    if (end.trailseal_export_error !== undefined) throw new Error(`the export failed on the service: ${end.trailseal_export_error.code}: ${end.trailseal_export_error.detail}`);
    const { manifest: text, signature } = end.trailseal_export!;
    const m = parseManifest(text);
    // What arrived must be what the service signed for: a proxy that cut or changed the stream is caught here, not at audit.
    const sha = digest.digest('hex');
    if (m.events.sha256 !== sha || m.events.bytes !== bytes || m.events.count !== lines) {
      throw new Error(`the events received (${lines} lines, ${bytes} bytes, SHA-256 ${sha}) are not those the manifest states; nothing was kept`);
    }
    // On disk before they are reported written: evidence that vanishes in a crash after "exported" is worse than none.
    syncFile(partial);
    writeFileSync(join(o.out, BUNDLE_FILES.manifest), text, { flush: true });
    writeFileSync(join(o.out, BUNDLE_FILES.signature), signature, { flush: true });
    renameSync(partial, join(o.out, BUNDLE_FILES.events));
    syncFile(o.out);
    const cp = parseCheckpoint(parseNoteUnverified(m.checkpoint).text);
    return { dir: o.out, count: m.events.count, bytes, firstSeq: m.events.first_seq, lastSeq: m.events.last_seq, checkpointSize: cp.size, exportSeq: m.export_seq };
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  }
}

/** A one-line progress bar for a terminal (stderr). */
export function progressBar(stream: NodeJS.WriteStream): (written: number, total: number | undefined) => void {
  const started = Date.now();
  return (written, total) => {
    const secs = Math.max((Date.now() - started) / 1000, 0.001);
    const rate = `${Math.round(written / secs).toLocaleString('en-US')} records/s`;
    if (total === undefined || total === 0) {
      stream.write(`\r${written.toLocaleString('en-US')} records  ${rate}   `);
      return;
    }
    const frac = Math.min(written / total, 1);
    const width = 30;
    const filled = Math.round(frac * width);
    stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${written.toLocaleString('en-US')}/${total.toLocaleString('en-US')} records  ${rate}   `);
  };
}
