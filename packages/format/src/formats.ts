// Field formats of the event record (docs/spec/event-record.md, "Formats").
// Each check is strict: one accepted spelling where the format allows it, and
// no reliance on host libraries (this runs in browsers too).

// The checks are scanners over char codes rather than regular expressions
// and splits: validation runs them on every ingested event and every verified
// record, and the scanners take 15-28% of the time
// (bench/README.md, fourth session). test/formats.test.ts holds the regular
// expressions they must agree with, as a reference.

/** The value of the `count` ASCII digits at s[i, i + count), or -1. */
function digitsAt(s: string, i: number, count: number): number {
  let v = 0;
  for (let k = i; k < i + count; k++) {
    const d = s.charCodeAt(k) - 0x30;
    if (!(d >= 0 && d <= 9)) return -1;
    v = v * 10 + d;
  }
  return v;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * RFC 3339 section 5.6 date-time with upper-case T and Z (the spec fixes one
 * spelling), fractional seconds up to nanoseconds, leap second 60 allowed.
 */
export function isRfc3339(s: string): boolean {
  // YYYY-MM-DDTHH:MM:SS, then .F{1,9}, then Z or +HH:MM / -HH:MM.
  const n = s.length;
  if (n < 20 || n > 35) return false;
  if (s.charCodeAt(4) !== 0x2d || s.charCodeAt(7) !== 0x2d || s.charCodeAt(10) !== 0x54 || s.charCodeAt(13) !== 0x3a || s.charCodeAt(16) !== 0x3a) return false;
  const year = digitsAt(s, 0, 4);
  const month = digitsAt(s, 5, 2);
  const day = digitsAt(s, 8, 2);
  const hour = digitsAt(s, 11, 2);
  const minute = digitsAt(s, 14, 2);
  const second = digitsAt(s, 17, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return false;
  let i = 19;
  if (s.charCodeAt(i) === 0x2e) {
    const start = ++i;
    while (isDigit(s.charCodeAt(i))) i++;
    if (i === start || i - start > 9) return false;
  }
  const zone = s.charCodeAt(i);
  if (zone === 0x5a) return i + 1 === n;
  if (zone !== 0x2b && zone !== 0x2d) return false;
  if (i + 6 !== n || s.charCodeAt(i + 3) !== 0x3a) return false;
  const zh = digitsAt(s, i + 1, 2);
  const zm = digitsAt(s, i + 4, 2);
  return zh >= 0 && zh <= 23 && zm >= 0 && zm <= 59;
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
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let parts = 0;
  for (let i = 0; ; i++) {
    const start = i;
    let v = 0;
    while (isDigit(s.charCodeAt(i))) v = v * 10 + (s.charCodeAt(i++) - 0x30);
    const len = i - start;
    if (len === 0 || len > 3 || (len > 1 && s.charCodeAt(start) === 0x30) || v > 255) return false;
    if (++parts === 4) return i === n;
    if (s.charCodeAt(i) !== 0x2e) return false;
  }
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
  const end = s.charCodeAt(s.length - 1) === 0x2e ? s.length - 1 : s.length;
  if (end === 0 || end > 253) return false;
  let label = 0;
  for (let i = 0; i <= end; i++) {
    // The end of the name closes its last label, as a dot would.
    const c = i < end ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (i === label || i - label > 63 || s.charCodeAt(i - 1) === 0x2d) return false;
      label = i + 1;
    } else if (c === 0x2d) {
      if (i === label) return false;
    } else if (!isDigit(c) && !((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a)) {
      return false;
    }
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
