// The browser verifier page (the entry point bundled into dist/verifier.html).
// The three bundle files are attacker-controlled: every piece of their content
// shown here goes through textContent or an attribute, never through HTML
// parsing. The page makes no network requests; the Content-Security-Policy
// the build puts in the page (and the service sends) forbids them anyway.
import { BUNDLE_FILES, isTrailsealError, parseVerifierKey } from '@trailseal/format';
import { describeSelection, type BundleReport, type Problem } from '@trailseal/verify';
import { verifyBundleBlobs } from './verify-files.js';

type Role = 'manifest' | 'signature' | 'events';
type State = 'idle' | 'running' | 'pass' | 'fail' | 'unusable';

const ROLES: readonly Role[] = ['manifest', 'signature', 'events'];
const chosen: Partial<Record<Role, File>> = {};

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`the page has no #${id}`);
  return e as T;
}

function make(tag: string, text?: string, attrs: Record<string, string> = {}): HTMLElement {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function setState(s: State): void {
  el('app').dataset['state'] = s;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]!}`;
}

/** The role of a file by its name: the bundle's own names first, then by extension for renamed copies. */
function roleOf(name: string): Role | undefined {
  const base = name.split(/[\\/]/).pop() ?? name;
  if (base === BUNDLE_FILES.manifest) return 'manifest';
  if (base === BUNDLE_FILES.signature) return 'signature';
  if (base === BUNDLE_FILES.events) return 'events';
  if (base.endsWith('.jsonl')) return 'events';
  if (base.endsWith('.sig')) return 'signature';
  if (base.endsWith('.json')) return 'manifest';
  return undefined;
}

function choose(role: Role, file: File): void {
  chosen[role] = file;
  el(`name-${role}`).textContent = `${file.name} (${formatBytes(file.size)})`;
}

/** Several files at once (a drop, or the multiple-file chooser), matched by name. */
function chooseMany(files: FileList | null): void {
  if (files === null || files.length === 0) return;
  const unknown: string[] = [];
  for (const f of Array.from(files)) {
    const role = roleOf(f.name);
    if (role === undefined) unknown.push(f.name);
    else choose(role, f);
  }
  if (unknown.length > 0) showError(`Not a bundle file: ${unknown.join(', ')}. A bundle is ${Object.values(BUNDLE_FILES).join(', ')}.`);
  else hideError();
}

function showError(message: string): void {
  const box = el('error');
  box.textContent = message;
  box.hidden = false;
}

function hideError(): void {
  el('error').hidden = true;
}

function summaryRows(r: BundleReport): [key: string, label: string, value: string][] {
  const rows: [string, string, string][] = [
    ['tenant', 'Tenant', r.tenant ?? 'unknown'],
    ['origin', 'Log', r.origin ?? 'unknown'],
    ['selection', 'Selection', describeSelection(r.selection)],
    ['count', 'Records', String(r.count)],
    ['seq', 'Seq range', r.firstSeq !== undefined ? `${r.firstSeq} to ${r.lastSeq ?? r.firstSeq}` : 'none'],
    ['checkpoint', 'Checkpoint size', r.checkpointSize !== undefined ? String(r.checkpointSize) : 'unknown'],
    ['time', 'Time span', r.timeSpan !== undefined ? `${r.timeSpan.from} to ${r.timeSpan.to}` : 'none'],
    [
      'macs',
      'MACs',
      (r.macVerified > 0 ? `${r.macVerified} verified with disclosed keys` : 'not checked (no MAC keys disclosed)') +
        (r.macSkipped > 0 && r.macVerified > 0 ? `, ${r.macSkipped} without a key` : ''),
    ],
  ];
  if (r.complete !== undefined) {
    rows.push(['complete', 'Completeness', r.complete ? `no record of the window is missing (as of checkpoint size ${r.checkpointSize ?? '?'})` : 'NOT proven']);
  }
  rows.push(['consistency', 'Consistency', r.consistentWith !== undefined ? `extends the earlier checkpoint of size ${r.consistentWith}` : 'no earlier checkpoint checked']);
  return rows;
}

function problemRow(p: Problem): HTMLElement {
  const tr = make('tr', undefined, { 'data-testid': 'problem', 'data-code': p.code });
  tr.append(
    make('td', p.code, { 'data-testid': 'problem-code' }),
    make('td', p.seq !== undefined ? String(p.seq) : '', { 'data-testid': 'problem-seq' }),
    make('td', p.line !== undefined ? String(p.line) : '', { 'data-testid': 'problem-line' }),
    make('td', p.message, { 'data-testid': 'problem-message' }),
  );
  return tr;
}

function showReport(r: BundleReport): void {
  const verdict = el('verdict');
  verdict.textContent = r.ok ? 'PASS' : 'FAIL';
  verdict.className = r.ok ? 'pass' : 'fail';
  el('verdict-detail').textContent = r.ok
    ? 'Every record is signed into the checkpoint by a key of the log you trust, and nothing was altered, added, removed or reordered.'
    : `${r.problemCount} problem${r.problemCount === 1 ? '' : 's'}: the bundle is not the evidence it claims to be.`;
  const dl = el('summary');
  dl.replaceChildren();
  for (const [key, label, value] of summaryRows(r)) dl.append(make('dt', label), make('dd', value, { 'data-testid': `summary-${key}` }));
  el('problem-rows').replaceChildren(...r.problems.map(problemRow));
  el('problems-more').textContent = r.problemCount > r.problems.length ? `… and ${r.problemCount - r.problems.length} more` : '';
  el('problems-box').hidden = r.ok;
  el('result').hidden = false;
  setState(r.ok ? 'pass' : 'fail');
}

/** Yields to the event loop through a message, which background tabs do not throttle as they do timers. */
function pause(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}

function showProgress(done: number, total: number): void {
  const bar = el<HTMLProgressElement>('progress');
  bar.value = total === 0 ? 1 : done / total;
  el('progress-text').textContent = `events.jsonl: ${formatBytes(done)} of ${formatBytes(total)} (${total === 0 ? 100 : Math.floor((done / total) * 100)}%)`;
}

/** The trusted key, checked before any file is read: a malformed key is unusable input, not a FAIL. */
function trustedKey(): string {
  const key = el<HTMLInputElement>('key').value.trim();
  if (key === '') throw new Error('Give the verifier key of the log you trust (origin+hex8+base64).');
  try {
    parseVerifierKey(key);
  } catch (e) {
    throw new Error(`The verifier key is not usable: ${e instanceof Error ? e.message : String(e)}`);
  }
  return key;
}

/** A pasted note may have lost its final line feed, which the note form requires. */
function earlierCheckpoint(): string | undefined {
  const text = el<HTMLTextAreaElement>('prev').value;
  if (text.trim() === '') return undefined;
  return text.endsWith('\n') ? text : `${text}\n`;
}

async function run(): Promise<void> {
  const button = el<HTMLButtonElement>('verify');
  button.disabled = true;
  hideError();
  el('result').hidden = true;
  el('verdict').textContent = '';
  setState('running');
  try {
    const key = trustedKey();
    const prev = earlierCheckpoint();
    el('progress-box').hidden = false;
    const report = await verifyBundleBlobs(
      { manifest: chosen.manifest, signature: chosen.signature, events: chosen.events },
      { trustedKeys: [key], ...(prev !== undefined ? { prevCheckpoint: prev } : {}), progress: showProgress, pause },
    );
    showReport(report);
  } catch (e) {
    // Unusable input: nothing was verified, so there is no verdict to give.
    const message = e instanceof Error ? e.message : String(e);
    showError(isTrailsealError(e) && e.code !== 'BUNDLE_UNUSABLE' ? `Could not verify (${e.code}): ${message}` : `Could not verify: ${message}`);
    setState('unusable');
  } finally {
    el('progress-box').hidden = true;
    button.disabled = false;
  }
}

function wireDropZone(): void {
  const zone = el('drop');
  // A file dropped anywhere else would make the browser navigate to it and lose what was chosen.
  for (const type of ['dragover', 'drop'] as const) document.addEventListener(type, (e) => e.preventDefault());
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (e.dataTransfer !== null) e.dataTransfer.dropEffect = 'copy';
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    chooseMany(e.dataTransfer?.files ?? null);
  });
  zone.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      el<HTMLInputElement>('bundle-files').click();
    }
  });
}

function main(): void {
  wireDropZone();
  el<HTMLInputElement>('bundle-files').addEventListener('change', (e) => chooseMany((e.target as HTMLInputElement).files));
  for (const role of ROLES) {
    el<HTMLInputElement>(`file-${role}`).addEventListener('change', (e) => {
      const f = (e.target as HTMLInputElement).files?.[0];
      if (f !== undefined) choose(role, f);
    });
  }
  el<HTMLInputElement>('prev-file').addEventListener('change', (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f !== undefined) void f.text().then((t) => (el<HTMLTextAreaElement>('prev').value = t));
  });
  el('verify').addEventListener('click', () => void run());
  setState('idle');
}

main();
