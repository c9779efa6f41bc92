import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompactRange, LogSealer, computeMac, leafHash, toBase64, deriveSigningSeed, deriveTenantKey, fromHex, newEd25519Signer, openCheckpoint, parseVerifierKey, recordForms, recordHash, signCheckpoint, toHex, type ErrorCode, type MacKey } from '@trailseal/format';
import { SegmentVerifier, combineSegments, verifyCheckpointConsistency, verifyLog, verifyReceipt, verifySegment } from '@trailseal/verify';
import { buildGoldenLog } from '../../../scripts/golden.js';
import { flipByte } from '../../../test-support/errors.js';

const golden = buildGoldenLog();
const last = golden.checkpoints[golden.checkpoints.length - 1]!;
const trustedKeys = [golden.verifierKeys[0]!];
const macKeys: MacKey[] = golden.macKeys.map((k) => ({ id: k.id, key: fromHex(k.keyHex) }));

const codes = (lines: string[], opts: Partial<Parameters<typeof verifyLog>[1]> = {}): ErrorCode[] =>
  [...new Set(verifyLog(lines, { trustedKeys, checkpoint: last.note, macKeys, ...opts }).problems.map((p) => p.code))].sort();

/** Re-seals a record after an edit so that its chain link and MAC still hold (a forger with the MAC key). */
function reseal(line: string, edit: (r: Record<string, unknown>) => void, key: MacKey): string {
  const r = JSON.parse(line) as Record<string, unknown>;
  edit(r);
  delete r['mac'];
  r['mac'] = computeMac(key.key, recordForms(r).macInput);
  return recordForms(r).full;
}

describe('verifyLog on the golden log', () => {
  it('passes the untouched log and reports what it covered', () => {
    const r = verifyLog(golden.records, { trustedKeys, checkpoint: last.note, macKeys });
    expect(r.problems).toEqual([]);
    expect(r).toMatchObject({ ok: true, tenant: 'acme', origin: golden.origin, count: golden.records.length, firstSeq: 0, lastSeq: golden.records.length - 1, treeSize: last.size, checkpointSize: last.size, macVerified: golden.records.length, macSkipped: 0 });
    expect(r.keyHistory.map((k) => k.verifierKey)).toEqual(golden.verifierKeys);
    expect(new Set(golden.macKeys.map((k) => k.id.split(':')[1])).size).toBe(2);
  });

  it('trusts a log whose current key is trusted, through the rotation record', () => {
    expect(verifyLog(golden.records, { trustedKeys: [golden.verifierKeys[1]!], checkpoint: last.note }).ok).toBe(true);
  });

  it('counts MACs it could not check when no key is disclosed', () => {
    const r = verifyLog(golden.records, { trustedKeys, checkpoint: last.note });
    expect(r).toMatchObject({ ok: true, macVerified: 0, macSkipped: golden.records.length });
  });

  it('checks every earlier checkpoint against its prefix', () => {
    for (const cp of golden.checkpoints) {
      expect(verifyLog(golden.records.slice(0, cp.size), { trustedKeys, checkpoint: cp.note }).problems).toEqual([]);
    }
  });

  it('fails when any byte of any record changes, and names that record', () => {
    fc.assert(
      fc.property(fc.nat(golden.records.length - 1), fc.nat(), fc.integer({ min: 1, max: 255 }), (i, at, mask) => {
        const changed = flipByte(golden.records[i]!, at, mask);
        if (changed === undefined) return;
        const lines = golden.records.map((l, j) => (j === i ? changed : l));
        const r = verifyLog(lines, { trustedKeys, checkpoint: last.note });
        expect(r.ok).toBe(false);
        expect(r.problems.some((p) => p.line === i + 1 || p.line === i + 2 || p.code === 'ROOT_MISMATCH')).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws, whatever JSON replaces any member of any record', () => {
    const anyJson = fc.jsonValue({ maxDepth: 3 }).chain((v) => fc.oneof(fc.constant(v), fc.string({ unit: 'binary', maxLength: 8 }), fc.constant('\ud800')));
    fc.assert(
      fc.property(fc.nat(golden.records.length - 1), fc.nat(), fc.nat(), anyJson, (i, k, j, value) => {
        const record = JSON.parse(golden.records[i]!) as Record<string, unknown>;
        const keys = Object.keys(record);
        const key = keys[k % keys.length]!;
        const inner = record[key];
        if (typeof inner === 'object' && inner !== null && !Array.isArray(inner) && j % 2 === 0) {
          const innerKeys = Object.keys(inner);
          (inner as Record<string, unknown>)[innerKeys[j % innerKeys.length] ?? 'x'] = value;
        } else record[key] = value;
        const lines = golden.records.map((l, n) => (n === i ? JSON.stringify(record) : l));
        const r = verifyLog(lines, { trustedKeys, checkpoint: last.note, macKeys });
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 1500 },
    );
  });

  it('reports, never throws on, a system record holding a lone surrogate escape', () => {
    const lines = golden.records.map((l, i) => (i === 7 ? l.replace('"reason":"scheduled"', '"reason":"\\ud800"') : l));
    const r = verifyLog(lines, { trustedKeys, checkpoint: last.note });
    expect(r.problems.filter((p) => p.seq === 7).map((p) => p.code)).toContain('RECORD_INVALID');
    expect(r.ok).toBe(false);
  });

  it('reports, never throws on, a MAC key id with an impossible date (regression)', () => {
    const lines = golden.records.map((l, i) => (i === 13 ? l.replace('"mac_key_id":"mac:2026-11-27', '"mac_key_id":"mac:2026-31-27') : l));
    const r = verifyLog(lines, { trustedKeys, checkpoint: last.note, macKeys });
    expect(r.problems.filter((p) => p.seq === 13).map((p) => p.code)).toContain('RECORD_INVALID');
    expect(r.ok).toBe(false);
  });

  it('detects an edited field (MAC, chain, leaf/root)', () => {
    const lines = [...golden.records];
    lines[5] = lines[5]!.replace('"outcome":"success"', '"outcome":"failure"');
    expect(codes(lines)).toEqual(['CHAIN_BROKEN', 'MAC_MISMATCH', 'ROOT_MISMATCH']);
  });

  /** Edits record `from` and re-links every later record, as a forger holding the MAC keys would. */
  function forgeFrom(from: number): string[] {
    const lines = [...golden.records];
    const keyOf = (l: string): MacKey => macKeys.find((m) => l.includes(m.id))!;
    lines[from] = reseal(lines[from]!, (r) => (r['outcome'] = r['outcome'] === 'failure' ? 'success' : 'failure'), keyOf(lines[from]!));
    expect(lines[from]).not.toBe(golden.records[from]);
    for (let i = from + 1; i < lines.length; i++) {
      const prev = toHex(recordHash(lines[i - 1]!));
      lines[i] = reseal(lines[i]!, (r) => (r['prev_hash'] = prev), keyOf(lines[i]!));
    }
    return lines;
  }

  it('detects a forged record with recomputed MAC and chain hashes: the signed root gives it away', () => {
    expect(codes(forgeFrom(golden.records.length - 3))).toEqual(['ROOT_MISMATCH']);
  });

  it('detects a forgery that re-links a signed key-rotation record: its signatures break', () => {
    const rotation = golden.records.findIndex((l) => l.includes('"purpose":"signing"'));
    expect(codes(forgeFrom(rotation - 1))).toEqual(['KEY_HISTORY_INVALID', 'NOTE_NO_VALID_SIGNATURE']);
  });

  it.each<[string, (l: string[]) => string[], ErrorCode[]]>([
    ['dropped line', (l) => [...l.slice(0, 3), ...l.slice(4)], ['CHAIN_BROKEN', 'CHECKPOINT_SIZE_MISMATCH', 'SEQ_GAP']],
    ['duplicated line', (l) => [...l.slice(0, 4), l[3]!, ...l.slice(4)], ['CHAIN_BROKEN', 'CHECKPOINT_SIZE_MISMATCH', 'SEQ_DUPLICATE']],
    ['swapped lines', (l) => [...l.slice(0, 3), l[4]!, l[3]!, ...l.slice(5)], ['CHAIN_BROKEN', 'ROOT_MISMATCH', 'SEQ_GAP', 'SEQ_REORDER', 'TIME_REORDER']],
    ['truncated tail', (l) => l.slice(0, -2), ['CHECKPOINT_SIZE_MISMATCH']],
    ['whitespace', (l) => l.map((x, i) => (i === 2 ? x.replace('":', '": ') : x)), ['CHAIN_BROKEN', 'RECORD_NOT_CANONICAL', 'ROOT_MISMATCH']],
    ['not JSON', (l) => l.map((x, i) => (i === 2 ? x.slice(0, -1) : x)), ['CHAIN_BROKEN', 'RECORD_INVALID', 'ROOT_MISMATCH']],
  ])('detects a %s', (_, mutate, expected) => {
    expect(codes(mutate(golden.records))).toEqual(expected);
  });

  it('rejects a wrong trusted key', () => {
    const other = new LogSealer({ tenant: 'acme', origin: golden.origin, tenantKey: new Uint8Array(32), signingSeed: new Uint8Array(32) });
    expect(codes(golden.records, { trustedKeys: [other.verifierKey] })).toContain('NOTE_NO_VALID_SIGNATURE');
  });

  it('reports a MAC key id whose epoch is not the day the record was received', () => {
    const lines = golden.records.map((l, i) => (i === 3 ? l.replace('"mac_key_id":"mac:2026-11-26:', '"mac_key_id":"mac:2026-11-25:') : l));
    const r = verifyLog(lines, { trustedKeys, checkpoint: last.note });
    expect(r.problems.filter((p) => p.seq === 3).map((p) => [p.code, p.message])).toEqual([['RECORD_INVALID', 'mac_key_id epoch 2026-11-25 is not the UTC day of received_at']]);
  });

  it('rejects a wrong disclosed MAC key', () => {
    const wrong = macKeys.map((k) => ({ id: k.id, key: new Uint8Array(32).fill(1) }));
    expect(codes(golden.records, { macKeys: wrong })).toEqual(['MAC_KEY_UNKNOWN']);
  });

  it('rejects a checkpoint signed by a key that was not in force at its size', () => {
    // The genesis key signs a checkpoint of the full log after it was rotated out.
    const tenantKey = deriveTenantKey(fromHex(golden.rootKeyHex), 'acme');
    const retired = newEd25519Signer(golden.origin, deriveSigningSeed(tenantKey, 0));
    const cp = openCheckpoint(last.note, golden.verifierKeys.map((k) => parseVerifierKey(k)));
    const forged = signCheckpoint({ origin: cp.origin, size: cp.size, rootHash: cp.rootHash, extensions: [] }, [retired]);
    expect(codes(golden.records, { checkpoint: forged })).toEqual(['NOTE_BAD_SIGNATURE']);
  });

  it('verifies a range that does not start at 0, from the state before it', () => {
    const from = 9;
    const before = verifyLog(golden.records.slice(0, from), { trustedKeys });
    const prefix = new CompactRange();
    for (const l of golden.records.slice(0, from)) prefix.append(leafHash(l));
    const start = { seq: from, prevHash: toHex(recordHash(golden.records[from - 1]!)), rangeHashes: prefix.hashes.map(toBase64), keys: before.keyHistory };
    const r = verifyLog(golden.records.slice(from), { trustedKeys, checkpoint: last.note, macKeys, start });
    expect(r.problems).toEqual([]);
    expect(r).toMatchObject({ ok: true, firstSeq: from, count: golden.records.length - from, treeSize: last.size, checkpointSize: last.size });
    // A wrong starting point is caught: the chain link and the root.
    const wrong = verifyLog(golden.records.slice(from), { trustedKeys, checkpoint: last.note, start: { ...start, prevHash: '1'.repeat(64) } });
    expect(wrong.problems.map((p) => p.code)).toEqual(['CHAIN_BROKEN']);
    const shifted = verifyLog(golden.records.slice(from + 1), { trustedKeys, checkpoint: last.note, start });
    expect(new Set(shifted.problems.map((p) => p.code))).toEqual(new Set(['SEQ_GAP', 'CHAIN_BROKEN', 'CHECKPOINT_SIZE_MISMATCH']));
  });

  it('verifies segments independently and combines them to the same verdict', () => {
    const cut = [0, 5, 6, 13, golden.records.length];
    const segs = cut.slice(0, -1).map((from, i) => verifySegment(golden.records.slice(from, cut[i + 1]), { macKeys, firstSeq: from }));
    const r = combineSegments(segs, { trustedKeys, checkpoint: last.note });
    expect(r.problems).toEqual([]);
    expect(r.rootHash).toBe(verifyLog(golden.records, { trustedKeys }).rootHash);
  });
});

describe('MAC checks on the bytes of a file', () => {
  const utf8 = new TextEncoder();
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const keyOf = (l: string): MacKey => macKeys.find((m) => l.includes(m.id))!;
  /** One line through a fresh segment verifier, given its bytes or not: what the MAC check concluded. */
  const macVerdict = (bytes: Uint8Array, withBytes: boolean): { verified: number; codes: string[] } => {
    const v = new SegmentVerifier({ macKeys, checkFirstSeq: false });
    const line = decoder.decode(bytes);
    if (withBytes) v.add(line, bytes);
    else v.add(line);
    const r = v.result();
    return { verified: r.macVerified, codes: r.problems.items.map((p) => p.code).filter((c) => c.startsWith('MAC_')) };
  };
  const ascii = golden.records[5]!;
  // Sealed with U+FFFD (3 bytes in UTF-8) in its text.
  const replacement = reseal(golden.records[6]!, (r) => ((r['context'] as Record<string, unknown>)['error'] = 'bad byte \uFFFD'), keyOf(golden.records[6]!));

  it('reaches the same verdict from the bytes as from the text, for ASCII, non-ASCII and undecodable lines', () => {
    const isAscii = (l: string): boolean => Buffer.byteLength(l) === l.length;
    const nonAscii = golden.records.find((l) => !isAscii(l));
    expect(isAscii(ascii)).toBe(true);
    const cases: [string, Uint8Array][] = [
      ['ASCII record', utf8.encode(ascii)],
      ['non-ASCII record', utf8.encode(nonAscii!)],
      // As many bytes as characters, like ASCII, but one invalid byte where
      // the sealed text has U+FFFD: it decodes to the sealed text, whose MAC holds.
      ['invalid byte decoding to the sealed text', Buffer.from(Buffer.from(replacement).toString('latin1').replace('\xef\xbf\xbd', '\xff'), 'latin1')],
    ];
    expect(cases[2]![1].length).toBe(replacement.length);
    for (const [name, bytes] of cases) {
      expect(macVerdict(bytes, true), name).toEqual({ verified: 1, codes: [] });
      expect(macVerdict(bytes, false), name).toEqual({ verified: 1, codes: [] });
    }
  });

  it('finds a changed byte before and after the mac member when reading the bytes', () => {
    for (const [from, to] of [
      ['"name":"Dana Whitfield"', '"name":"Dana Whitfielt"'],
      ['"name":"Q3-payroll-export.csv"', '"name":"Q4-payroll-export.csv"'],
    ]) {
      const edited = ascii.replace(from!, to!);
      expect(edited.indexOf(to!) < edited.indexOf('"mac":')).toBe(from!.includes('Dana'));
      expect(macVerdict(utf8.encode(edited), true), to).toEqual({ verified: 1, codes: ['MAC_MISMATCH'] });
    }
  });
});

describe('verifyReceipt', () => {
  it('verifies every golden record in isolation', () => {
    golden.records.forEach((line, i) => {
      const r = verifyReceipt(line, golden.receipts[i]!, { trustedKeys: golden.verifierKeys, macKeys });
      expect(r.problems).toEqual([]);
      expect(r).toMatchObject({ ok: true, seq: i, macVerified: true });
    });
  });

  it('fails a record paired with another record\'s receipt, an edited record, and an untrusted key', () => {
    expect(verifyReceipt(golden.records[3]!, golden.receipts[4]!, { trustedKeys: golden.verifierKeys }).problems.map((p) => p.code)).toEqual(['PROOF_ROOT_MISMATCH']);
    const edited = golden.records[3]!.replace('"file.download"', '"file.upload"');
    expect(verifyReceipt(edited, golden.receipts[3]!, { trustedKeys: golden.verifierKeys, macKeys }).problems.map((p) => p.code)).toEqual(['MAC_MISMATCH', 'PROOF_ROOT_MISMATCH']);
    expect(verifyReceipt(golden.records[3]!, golden.receipts[3]!, { trustedKeys: [golden.verifierKeys[0]!] }).problems.map((p) => p.code)).toEqual(['NOTE_NO_VALID_SIGNATURE']);
  });
});

describe('verifyCheckpointConsistency', () => {
  const cps = new Map(golden.checkpoints.map((c) => [c.size, c.note]));

  it('accepts every golden consistency proof, across the key rotation', () => {
    for (const c of golden.consistency) {
      const r = verifyCheckpointConsistency(cps.get(c.from)!, cps.get(c.to)!, c.proof, { trustedKeys: golden.verifierKeys, expectedOrigin: golden.origin });
      expect(r.problems).toEqual([]);
      expect(r.older!.size).toBe(c.from);
    }
  });

  it('rejects a forked later tree, a swapped order, a broken proof and an untrusted key', () => {
    const c = golden.consistency[0]!;
    const older = cps.get(c.from)!;
    const newer = cps.get(c.to)!;
    const keys = { trustedKeys: golden.verifierKeys };
    const tenantKey = deriveTenantKey(fromHex(golden.rootKeyHex), 'acme');
    const signer = newEd25519Signer(golden.origin, deriveSigningSeed(tenantKey, 1));
    const fork = signCheckpoint({ origin: golden.origin, size: c.to, rootHash: new Uint8Array(32).fill(7), extensions: [] }, [signer]);
    const codes = (r: { problems: readonly { code: string }[] }): string[] => r.problems.map((p) => p.code);
    expect(codes(verifyCheckpointConsistency(older, fork, c.proof, keys))).toEqual(['PROOF_INCONSISTENT']);
    expect(codes(verifyCheckpointConsistency(newer, older, c.proof, keys))).toEqual(['PROOF_INCONSISTENT']);
    expect(codes(verifyCheckpointConsistency(older, newer, c.proof.slice(1), keys))).toEqual(['PROOF_WRONG_LENGTH']);
    expect(codes(verifyCheckpointConsistency(older, newer, c.proof, { trustedKeys: [golden.verifierKeys[1]!] }))).toEqual(['NOTE_NO_VALID_SIGNATURE']);
  });
});
