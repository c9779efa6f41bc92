// Checking record MACs against disclosed epoch keys (docs/spec/keys-and-mac.md,
// "MAC epochs and key ids"): one implementation for the log verifier and the
// single-receipt verifier.
import { cryptoProvider, formatMacKeyId, macEpochOf, parseMacKeyId, type Bytes, type ErrorCode, type MacKey, type MacKeyId } from '@trailseal/format';

export type MacStatus = 'skipped' | 'verified' | 'wrong-key' | 'mismatch';

export class MacChecker {
  private readonly keys = new Map<string, MacKey>();
  private readonly fingerprintOk = new Map<string, boolean>();
  // One key id serves a whole day of records: parse it once.
  private last: { id: string; parsed: MacKeyId } | undefined;

  constructor(keys: readonly MacKey[] = []) {
    for (const k of keys) this.keys.set(k.id, k);
  }

  /** Whether any key was disclosed: without one, every MAC is skipped and its input never read. */
  get disclosesAny(): boolean {
    return this.keys.size > 0;
  }

  /** Whether a (schema-valid) key id names the UTC day of `receivedAt`. */
  epochMatches(keyId: string, receivedAt: string): boolean {
    if (this.last?.id !== keyId) this.last = { id: keyId, parsed: parseMacKeyId(keyId) };
    return this.last.parsed.epoch === macEpochOf(receivedAt);
  }

  /**
   * Checks `mac` over the MAC input (given in pieces, hashed as their
   * concatenation) when the key it names was disclosed and really has the
   * fingerprint its id states.
   */
  check(keyId: string, mac: string, input: readonly Bytes[]): MacStatus {
    const key = this.keys.get(keyId);
    if (key === undefined) return 'skipped';
    let ok = this.fingerprintOk.get(keyId);
    if (ok === undefined) {
      const id = parseMacKeyId(keyId);
      ok = formatMacKeyId(id.epoch, id.generation, key.key) === keyId;
      this.fingerprintOk.set(keyId, ok);
    }
    if (!ok) return 'wrong-key';
    return cryptoProvider().hmacSha256Hex(key.key, ...input) === mac ? 'verified' : 'mismatch';
  }
}

/** The problem a MAC status stands for, if any. */
export function macProblem(status: MacStatus, keyId: string): { code: ErrorCode; message: string } | undefined {
  if (status === 'wrong-key') return { code: 'MAC_KEY_UNKNOWN', message: `the key disclosed as ${keyId} does not have that fingerprint: wrong key` };
  if (status === 'mismatch') return { code: 'MAC_MISMATCH', message: `MAC under ${keyId} does not match: the record was altered` };
  return undefined;
}

export function epochProblem(keyId: string): { code: ErrorCode; message: string } {
  return { code: 'RECORD_INVALID', message: `mac_key_id epoch ${keyId.split(':')[1] ?? ''} is not the UTC day of received_at` };
}
