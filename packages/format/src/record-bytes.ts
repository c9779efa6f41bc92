// How a record's canonical JSON is put together around its `mac` member
// (docs/spec/keys-and-mac.md): `mac` sorts between `log` and `mac_key_id`, so
// the canonical JSON splits into `head` (from `{` to the member before `mac`)
// and `tail` (from the member after `mac` to `}`). No imports: the crypto
// providers use MAC_MEMBER_BYTES too.

/** The MAC input: the record's canonical JSON without `mac`. */
export function joinMacInput(parts: { head: string; tail: string }): string {
  return `${parts.head},${parts.tail}`;
}

/** The record bytes. `mac` must be the 64 hex digits of a MAC (no escaping needed). */
export function joinRecordBytes(parts: { head: string; tail: string }, mac: string): string {
  return `${parts.head},"mac":"${mac}",${parts.tail}`;
}

/** `,"mac":"` || 64 hex digits || `",`: what joinRecordBytes adds between head and tail, less the MAC input's comma. */
export const MAC_MEMBER_BYTES = 73;
