// A single-pass recognizer for record lines that are already canonical and
// schema-valid: the verifier's fast path (docs/spec/event-record.md,
// "Verifying records", steps 2 and 3). Verifying a record the reference way
// costs JSON.parse + validateRecord + re-serialization; here the line is read
// once, left to right, by matchers compiled from the same Schema objects that
// validateRecord walks (as record-codec.ts compiles serializers from them).
//
// A recognizer only has to say yes or "ask the reference path", never why: it
// answers only for lines that are exactly the RFC 8785 canonical JSON of an
// object validateRecord accepts, and returns undefined for everything else,
// including anything it is unsure of. So
//
//   scanRecord(line) !== undefined  =>  validateRecord(JSON.parse(line)) is
//   empty, canonicalize(JSON.parse(line)) === line, and the fields returned
//   are the parsed ones,
//
// and the caller runs the reference path (which has the precise diagnostics)
// whenever it gets undefined. test/record-scan.test.ts checks this contract,
// and that the converse holds too, against the reference path.
//
// Why reading canonical text can replace parsing: a canonical object lists its
// members sorted by UTF-16 code units (RFC 8785 section 3.2.3), and a schema
// object's member names are known in advance, so the members of a record are
// a subsequence of the schema's sorted names. Each object matcher walks the
// sorted schema members once, matching `"name":` at the current position;
// absent optional members are skipped without allocating, and a name that
// matches none of the remaining members (unknown, duplicated, out of order or
// spelled with an escape) ends the match.
//
// Speed (bench/scan.ts): JavaScript costs several nanoseconds per code unit
// looked at, native string functions a fraction of that. So strings are
// skipped with indexOf, raw control characters are found for the whole line
// at once (hasControlCharacter), and texts are compared as slices (startsAt).
// In a real log consecutive records differ (users, files, addresses, sizes,
// times), so what a record costs is mostly what its values cost: the common
// spellings of timestamps, addresses and host names are read here without
// the general checks of formats.ts (TEXT_CHECKS). Values that consecutive
// records do repeat, as in a burst from one client, are recognized whole
// (remembering, and the remembered checks of string matchers), by memos that
// back off where they do not pay (Backoff).
import { isEmail, isHostname, isIP, isLogTimestamp, isRfc3339 } from './formats.js';
import { hasControlByteIn, hasControlCharacter } from './control-chars.js';
import { isWellFormedString } from './jcs.js';
import { EVENT_FIELDS, LIMITS, RECORD_LOG_FIELDS, SYSTEM_ACTION_PREFIX, utf8Length } from './record.js';
import type { Field, Schema, Validation } from './schema.js';

/**
 * What a verifier needs of a record, read from its line. The strings are
 * slices of the line, and V8 keeps the whole string a long slice was cut from
 * alive (a verifier's decoded input chunk): copy those kept for long.
 */
export interface ScannedRecord {
  seq: number;
  tenant: string;
  prevHash: string;
  receivedAt: string;
  macKeyId: string;
  mac: string;
  action: string;
  /** The action is under `trailseal.`: a record the log writes itself (it carries `log`). */
  system: boolean;
  /**
   * MAC input = line minus the `"mac":"<64 hex>",` member, in two pieces
   * (their concatenation), so it can be hashed without joining them.
   */
  macInputParts: readonly [string, string];
}

/**
 * The mutable scratch of one scan: what a matcher tells the next beyond the
 * position it returns. Scans are synchronous and never nest, so one instance
 * serves every call.
 */
interface Scan {
  /** Index of the first backslash at or after the scan position (the line length if none). */
  backslash: number;
  /** Decoded UTF-16 length of the string scanned last. */
  units: number;
  /** Whether that string contains an escape (so its text is not its value). */
  escaped: boolean;
  /** The value of the last enum, integer, or string matched by a matcher compiled with `keep` or with a check. */
  value: string | number;
  /** Remaining budget of members and items in the free-form value being scanned. */
  nodes: number;
  /** Deepest nesting allowed in the free-form value being scanned. */
  maxDepth: number;
}

/**
 * Matches the value at `pos` of `s`: returns the index just after it, or -1
 * when the text there is not a canonical, schema-valid value.
 */
type Matcher = (s: string, pos: number, st: Scan) => number;

/** Called by an object matcher after each member it matched (the record's own members only). */
type Capture = (index: number, valueStart: number, valueEnd: number) => void;

interface Member {
  readonly name: string;
  /** `"name":` (schema names are plain ASCII, so this is their canonical form). */
  readonly prefix: string;
  /** Where the name's closing quote is, counted from its opening quote. */
  readonly quoteAt: number;
  readonly required: boolean;
  readonly match: Matcher;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const ZERO = 0x30;

/**
 * Nesting allowed inside a free-form member other than `context` (whose own
 * limit is LIMITS.maxContextDepth). The reference path has no such limit for
 * `log`; deeper values are merely left to it.
 */
const FREE_DEPTH = 32;

const isDigit = (c: number): boolean => c >= ZERO && c <= 0x39;
const isLowerHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66);

// --- canonical JSON tokens ----------------------------------------------------

/**
 * Scans the canonical string starting with the quote at `pos` and returns the
 * index after its closing quote, or -1. Section 3.2.2.2 of RFC 8785 (ECMAScript
 * JSON.stringify): every character is literal except `"` and `\`, which are
 * escaped as `\"` and `\\`, and U+0000..U+001F, which use the short forms
 * `\b \t \n \f \r` where they exist and `\u00xx` with lower-case hex
 * otherwise. scanRecord has checked once, for the whole line, that it holds
 * no raw control character and no lone surrogate, so a string without a
 * backslash is canonical as it stands and is found with one native indexOf.
 */
function scanString(s: string, pos: number, st: Scan): number {
  if (s.charCodeAt(pos) !== QUOTE) return -1;
  const close = s.indexOf('"', pos + 1);
  if (close < 0) return -1;
  if (close < st.backslash) {
    st.units = close - pos - 1;
    st.escaped = false;
    return close + 1;
  }
  return scanEscapedString(s, pos, st);
}

/** scanString for a string with a backslash: each escape must be the canonical one. */
function scanEscapedString(s: string, pos: number, st: Scan): number {
  let i = pos + 1;
  // Characters that escapes add beyond the one code unit each stands for.
  let extra = 0;
  for (;;) {
    const c = s.charCodeAt(i);
    if (c === QUOTE) break;
    if (c === BACKSLASH) {
      const e = s.charCodeAt(i + 1);
      if (e === QUOTE || e === BACKSLASH || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
        i += 2;
        extra += 1;
        continue;
      }
      if (e !== 0x75 || s.charCodeAt(i + 2) !== ZERO || s.charCodeAt(i + 3) !== ZERO) return -1;
      const hi = s.charCodeAt(i + 4);
      const lo = s.charCodeAt(i + 5);
      if ((hi !== ZERO && hi !== 0x31) || !isLowerHex(lo)) return -1;
      // \u0008 \u0009 \u000a \u000c \u000d have short forms, which are the canonical spelling.
      if (hi === ZERO && (lo === 0x38 || lo === 0x39 || lo === 0x61 || lo === 0x63 || lo === 0x64)) return -1;
      i += 6;
      extra += 5;
      continue;
    }
    // NaN past the end of the line.
    if (c !== c) return -1;
    i++;
  }
  st.units = i - pos - 1 - extra;
  st.escaped = extra !== 0;
  const next = s.indexOf('\\', i + 1);
  st.backslash = next < 0 ? s.length : next;
  return i + 1;
}

/** The value of the string scanned by scanString from `pos` to `end`. */
function stringValue(s: string, pos: number, end: number, escaped: boolean): string {
  // The escapes were checked to be valid JSON, so JSON.parse decodes them.
  return escaped ? (JSON.parse(s.slice(pos, end)) as string) : s.slice(pos + 1, end - 1);
}

/**
 * Scans a JSON number at `pos` and returns the index after it, or -1 unless
 * it is the canonical form of its value: ECMAScript Number::toString (section
 * 3.2.2.3), which also excludes `-0`, `1.0`, `1e0`, `1E+2` and non-finite
 * values (whose toString is not a JSON number).
 */
function scanNumber(s: string, pos: number): number {
  let i = pos;
  if (s.charCodeAt(i) === MINUS) i++;
  const first = s.charCodeAt(i);
  if (first === ZERO) i++;
  else if (first > ZERO && first <= 0x39) while (isDigit(s.charCodeAt(++i)));
  else return -1;
  const intEnd = i;
  if (s.charCodeAt(i) === 0x2e) {
    if (!isDigit(s.charCodeAt(++i))) return -1;
    while (isDigit(s.charCodeAt(++i)));
  }
  const e = s.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    const sign = s.charCodeAt(++i);
    if (sign === 0x2b || sign === MINUS) i++;
    if (!isDigit(s.charCodeAt(i))) return -1;
    while (isDigit(s.charCodeAt(++i)));
  }
  // An integer of at most 15 digits is below 2^53 and is printed as itself,
  // except -0 (printed as 0). The grammar above already excludes leading zeros.
  if (i === intEnd && i - pos <= 15 && !(first === ZERO && i - pos === 2)) return i;
  const text = s.slice(pos, i);
  return String(Number(text)) === text ? i : -1;
}

/**
 * s.startsWith(text, at). The builtin compares one code unit at a time (in
 * Node.js 20 as slowly as a JavaScript loop), and so does a charCodeAt loop,
 * whose every read of a sliced line goes through the slice; comparing a
 * slice is a native memory comparison after a small allocation, and
 * measured faster even for the shortest member names (bench/scan.ts).
 */
function startsAt(s: string, at: number, text: string): boolean {
  return s.slice(at, at + text.length) === text;
}

/** Whether the code units s[a0..a1) sort strictly before s[b0..b1) (RFC 8785 section 3.2.3). */
function rangeLess(s: string, a0: number, a1: number, b0: number, b1: number): boolean {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let k = 0; k < n; k++) {
    const a = s.charCodeAt(a0 + k);
    const b = s.charCodeAt(b0 + k);
    if (a !== b) return a < b;
  }
  return a1 - a0 < b1 - b0;
}

/**
 * Scans any canonical JSON value at `pos` (the inside of a free-form member)
 * at nesting `depth`, the free-form object itself being depth 1. Counts every
 * member and array item against st.nodes and fails beyond st.maxDepth: the
 * two measures of record.ts's checkContext, counted the same way (every
 * value, scalars included, has the depth of its position).
 */
function scanValue(s: string, pos: number, depth: number, st: Scan): number {
  if (depth > st.maxDepth) return -1;
  switch (s.charCodeAt(pos)) {
    case QUOTE:
      return scanString(s, pos, st);
    case OPEN_BRACE:
      return scanObject(s, pos, depth, st);
    case OPEN_BRACKET: {
      let i = pos + 1;
      if (s.charCodeAt(i) === CLOSE_BRACKET) return i + 1;
      for (;;) {
        if (--st.nodes < 0) return -1;
        i = scanValue(s, i, depth + 1, st);
        if (i < 0) return -1;
        const c = s.charCodeAt(i);
        if (c === CLOSE_BRACKET) return i + 1;
        if (c !== COMMA) return -1;
        i++;
      }
    }
    case 0x74:
      return startsAt(s, pos, 'true') ? pos + 4 : -1;
    case 0x66:
      return startsAt(s, pos, 'false') ? pos + 5 : -1;
    case 0x6e:
      return startsAt(s, pos, 'null') ? pos + 4 : -1;
    default:
      return scanNumber(s, pos);
  }
}

/** A free-form object: member names strictly increasing in UTF-16 code units (RFC 8785 section 3.2.3), hence also distinct. */
function scanObject(s: string, pos: number, depth: number, st: Scan): number {
  let i = pos + 1;
  if (s.charCodeAt(i) === CLOSE_BRACE) return i + 1;
  let prevStart = -1;
  let prevEnd = -1;
  let prevEscaped = false;
  for (;;) {
    if (--st.nodes < 0) return -1;
    const nameEnd = scanString(s, i, st);
    if (nameEnd < 0 || s.charCodeAt(nameEnd) !== COLON) return -1;
    const escaped = st.escaped;
    if (prevStart >= 0) {
      // Order is defined on the names, not on their escaped spellings; only
      // names with escapes (rare) need decoding to compare.
      const ordered =
        escaped || prevEscaped
          ? stringValue(s, prevStart, prevEnd, prevEscaped) < stringValue(s, i, nameEnd, escaped)
          : rangeLess(s, prevStart + 1, prevEnd - 1, i + 1, nameEnd - 1);
      if (!ordered) return -1;
    }
    prevStart = i;
    prevEnd = nameEnd;
    prevEscaped = escaped;
    i = scanValue(s, nameEnd + 1, depth + 1, st);
    if (i < 0) return -1;
    const c = s.charCodeAt(i);
    if (c === CLOSE_BRACE) return i + 1;
    if (c !== COMMA) return -1;
    i++;
  }
}

// --- format checks on the line's text ---------------------------------------------

/**
 * A sufficient condition for a format check, read from s[from..to) without
 * slicing: true only if the check accepts that text; false means "call the
 * check". The checks in formats.ts are general (time zones, IPv6, trailing
 * dots, Unicode) and cost a regular expression, splits or an array each;
 * records mostly hold the common spellings, which these read in one pass.
 */
type TextCheck = (s: string, from: number, to: number) => boolean;

/** The digit at s[i], or -1. */
const digitAt = (s: string, i: number): number => {
  const d = s.charCodeAt(i) - ZERO;
  return d >= 0 && d <= 9 ? d : -1;
};
/** The two-digit number at s[i..i+2), or -1. */
const twoDigits = (s: string, i: number): number => {
  const a = digitAt(s, i);
  const b = digitAt(s, i + 1);
  return a < 0 || b < 0 ? -1 : 10 * a + b;
};

/**
 * YYYY-MM-DDTHH:MM:SS.sssZ, a valid date and time (leap second allowed): the
 * log's own timestamps (isLogTimestamp), and one spelling of isRfc3339.
 */
function isMillisTimestamp(s: string, from: number, to: number): boolean {
  if (to - from !== 24) return false;
  if (s.charCodeAt(from + 4) !== MINUS || s.charCodeAt(from + 7) !== MINUS || s.charCodeAt(from + 10) !== 0x54) return false;
  if (s.charCodeAt(from + 13) !== COLON || s.charCodeAt(from + 16) !== COLON || s.charCodeAt(from + 19) !== 0x2e || s.charCodeAt(from + 23) !== 0x5a) return false;
  const century = twoDigits(s, from);
  const yy = twoDigits(s, from + 2);
  const month = twoDigits(s, from + 5);
  const day = twoDigits(s, from + 8);
  const hour = twoDigits(s, from + 11);
  const minute = twoDigits(s, from + 14);
  const second = twoDigits(s, from + 17);
  if (century < 0 || yy < 0 || (century === 0 && yy === 0) || month < 1 || month > 12 || day < 1) return false;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return false;
  if (digitAt(s, from + 20) < 0 || twoDigits(s, from + 21) < 0) return false;
  if (day <= 28) return true;
  const year = 100 * century + yy;
  if (month === 2) return day === 29 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31);
}

/** A dotted-quad IPv4 address without leading zeros (isIPv4, hence isIP). */
function isDottedQuad(s: string, from: number, to: number): boolean {
  let i = from;
  for (let part = 0; part < 4; part++) {
    if (part > 0 && s.charCodeAt(i++) !== 0x2e) return false;
    const first = digitAt(s, i);
    if (first < 0) return false;
    let v = first;
    let n = 1;
    while (n < 3 && digitAt(s, i + n) >= 0) v = 10 * v + digitAt(s, i + n++);
    if ((first === 0 && n > 1) || v > 255) return false;
    i += n;
  }
  return i === to;
}

const isAlnum = (c: number): boolean => (c >= ZERO && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);

/** Labels of letters, digits and inner hyphens, 1..63 each, 253 in all, no trailing dot (isHostname). */
function isPlainHostname(s: string, from: number, to: number): boolean {
  if (to - from > 253 || to === from) return false;
  let labelStart = from;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (i === labelStart || s.charCodeAt(i - 1) === MINUS) return false;
      labelStart = i + 1;
    } else if (c === MINUS) {
      if (i === labelStart) return false;
    } else if (!isAlnum(c)) return false;
    if (i - labelStart >= 63) return false;
  }
  return labelStart < to && s.charCodeAt(to - 1) !== MINUS;
}

/** Exactly one @, neither first nor last, between printable ASCII characters (isEmail). */
function isPlainEmail(s: string, from: number, to: number): boolean {
  if (to - from > 254) return false;
  let at = -1;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
    if (c === 0x40) {
      if (at >= 0) return false;
      at = i;
    }
  }
  return at > from && at < to - 1;
}

const TEXT_CHECKS = new Map<(s: string) => boolean, TextCheck>([
  [isLogTimestamp, isMillisTimestamp],
  [isRfc3339, isMillisTimestamp],
  [isIP, isDottedQuad],
  [isHostname, isPlainHostname],
  [isEmail, isPlainEmail],
]);

// --- matchers compiled from the schema -----------------------------------------

const CONTEXT_SCHEMA = EVENT_FIELDS['context']?.schema;

/**
 * Compiles `schema` into a matcher that accepts exactly the canonical text of
 * the values validate() accepts for it. With `keep`, a string or integer
 * matcher leaves the value it matched in st.value.
 */
function compile(schema: Schema, name: string, keep: boolean): Matcher {
  switch (schema.kind) {
    case 'string': {
      const { max, check } = schema;
      const min = schema.min ?? 1;
      const decode = keep || check !== undefined;
      const textCheck = check === undefined ? undefined : TEXT_CHECKS.get(check);
      // A value that passed `check`. Checks are pure functions of the
      // string, and consecutive records often repeat checked values (tenant,
      // key id, action): a native string comparison is then all a checked
      // member costs. Remembering costs a copy (see detach), so a value is
      // remembered only when the backoff allows (see Backoff).
      let passed: string | undefined;
      const backoff = newBackoff();
      return (s, pos, st) => {
        const end = scanString(s, pos, st);
        // validate() measures length in UTF-16 code units of the decoded value.
        if (end < 0 || st.units > max || st.units < min) return -1;
        if (!decode) return end;
        if (textCheck !== undefined && !st.escaped && textCheck(s, pos + 1, end - 1)) {
          if (keep) st.value = s.slice(pos + 1, end - 1);
          return end;
        }
        const v = stringValue(s, pos, end, st.escaped);
        if (check !== undefined) {
          if (v === passed) backoff.step = 0;
          else {
            if (!check(v)) return -1;
            if (missed(backoff)) passed = detach(v);
          }
        }
        st.value = v;
        return end;
      };
    }
    case 'enum': {
      // JSON.stringify of a well-formed string is its canonical form (record-codec.ts).
      const quoted = schema.values.map((v) => JSON.stringify(v));
      const values = schema.values;
      return (s, pos, st) => {
        const length = s.indexOf('"', pos + 1) - pos + 1;
        for (let k = 0; k < quoted.length; k++) {
          const q = quoted[k]!;
          if (q.length === length && startsAt(s, pos, q)) {
            st.value = values[k]!;
            return pos + length;
          }
        }
        return -1;
      };
    }
    case 'integer': {
      const { min, max } = schema;
      return (s, pos, st) => {
        // Most values are positive integers of a few digits, read here in
        // one pass: no leading zero, and no fraction or exponent after them.
        let d = s.charCodeAt(pos) - ZERO;
        if (d > 0 && d <= 9) {
          let v = d;
          let i = pos + 1;
          for (d = s.charCodeAt(i) - ZERO; d >= 0 && d <= 9 && i - pos < 15; d = s.charCodeAt(++i) - ZERO) v = 10 * v + d;
          // d is the next character's offset from '0': '.' is -2, 'e' 53, 'E' 21.
          if (!(d >= 0 && d <= 9) && d !== -2 && d !== 53 && d !== 21) {
            if (v < min || v > max) return -1;
            st.value = v;
            return i;
          }
        }
        const end = scanNumber(s, pos);
        if (end < 0) return -1;
        // A canonical number with a fraction or exponent is not a safe integer.
        const v = end - pos <= 15 ? digitsValue(s, pos, end) : Number(s.slice(pos, end));
        if (!Number.isSafeInteger(v) || v < min || v > max) return -1;
        st.value = v;
        return end;
      };
    }
    case 'boolean':
      return (s, pos) => (startsAt(s, pos, 'true') ? pos + 4 : startsAt(s, pos, 'false') ? pos + 5 : -1);
    case 'array': {
      const item = compile(schema.items, name, false);
      const max = schema.max;
      return remembering((s, pos, st) => {
        if (s.charCodeAt(pos) !== OPEN_BRACKET) return -1;
        let i = pos + 1;
        if (s.charCodeAt(i) === CLOSE_BRACKET) return i + 1;
        for (let n = 1; n <= max; n++) {
          i = item(s, i, st);
          if (i < 0) return -1;
          const c = s.charCodeAt(i);
          if (c === CLOSE_BRACKET) return i + 1;
          if (c !== COMMA) return -1;
          i++;
        }
        return -1;
      });
    }
    case 'object':
      return remembering(objectMatcher(members(schema.fields, new Set()), undefined));
    case 'free':
      return remembering(freeMatcher(schema, name));
  }
}

/**
 * When to remember a value, for a memo of the last one. After a miss, the
 * memo rests: the next values are neither tried nor remembered, twice as
 * many after each miss as after the previous one (up to MAX_BACKOFF), and a
 * hit starts over. Only the value just before the next try is remembered.
 * Where a member differs in every record (hashes, times, sizes), remembering
 * costs a copy and trying a comparison, so both become rare; in a burst of
 * records that repeat it, the memo pays again within MAX_BACKOFF records.
 */
interface Backoff {
  /** Values still to go by before the next try. */
  wait: number;
  /** The wait set by the last miss. */
  step: number;
}

const MAX_BACKOFF = 64;

const newBackoff = (): Backoff => ({ wait: 0, step: 0 });

/** Records a value that was not a hit; true when it is to be remembered (the next value is tried). */
function missed(b: Backoff): boolean {
  if (b.wait === 0) {
    b.step = Math.min(2 * b.step + 1, MAX_BACKOFF);
    b.wait = b.step;
    return false;
  }
  return --b.wait === 0;
}

/**
 * A copy of `s` that does not keep alive the string it was sliced from. V8
 * represents a slice of 13 or more code units as a view of its parent, so a
 * remembered value would otherwise pin a verifier's whole decoded input
 * (megabytes) for as long as it is remembered. Shorter slices are copies
 * already; for longer ones, slicing a concatenation makes the engine copy.
 */
function detach(s: string): string {
  return s.length < 13 ? s : `${s} `.slice(0, -1);
}

/**
 * Wraps the matcher of an object or array (never the record itself) with the
 * text of the last value it accepted. Whether a nested value is canonical and
 * schema-valid depends on its text alone, and consecutive records of a log
 * sometimes repeat one whole (a burst from one actor, source, authorization),
 * so one native comparison replaces matching member by member. The last
 * character is compared first (most values that differ, differ in length).
 * The remembered value is tried only while trying pays (Backoff): in a log
 * where consecutive values differ, a try and a copy are rare.
 */
function remembering(match: Matcher): Matcher {
  let accepted = '';
  const backoff = newBackoff();
  return (s, pos, st) => {
    if (backoff.wait === 0) {
      const n = accepted.length;
      if (n !== 0 && s.charCodeAt(pos + n - 1) === accepted.charCodeAt(n - 1) && startsAt(s, pos, accepted)) {
        backoff.step = 0;
        const end = pos + n;
        // The text skipped may hold escapes: keep st.backslash ahead of the scan.
        if (st.backslash < end) {
          const next = s.indexOf('\\', end);
          st.backslash = next < 0 ? s.length : next;
        }
        return end;
      }
    }
    const end = match(s, pos, st);
    if (end >= 0 && missed(backoff)) accepted = detach(s.slice(pos, end));
    return end;
  };
}

/** The value of the canonical integer s[pos..end) of at most 15 characters (so exact in a double). */
function digitsValue(s: string, pos: number, end: number): number {
  const negative = s.charCodeAt(pos) === MINUS;
  let v = 0;
  for (let i = negative ? pos + 1 : pos; i < end; i++) {
    const d = s.charCodeAt(i) - ZERO;
    // A fraction or exponent: not an integer.
    if (d < 0 || d > 9) return Number.NaN;
    v = v * 10 + d;
  }
  return negative ? -v : v;
}

/**
 * Both free-form members, `context` and `log`, must be objects. `context` has
 * the limits record.ts's checkContext applies (LIMITS: depth and member count,
 * enforced while scanning, and the UTF-8 size of the canonical form, which is
 * the scanned text itself). For any other free-form member (`log`, which only
 * the log's rare system records carry) the schema's own check runs on the
 * parsed value.
 */
function freeMatcher(schema: Extract<Schema, { kind: 'free' }>, name: string): Matcher {
  const isContext = schema === CONTEXT_SCHEMA;
  return (s, pos, st) => {
    if (s.charCodeAt(pos) !== OPEN_BRACE) return -1;
    st.nodes = isContext ? LIMITS.maxContextNodes : Number.POSITIVE_INFINITY;
    st.maxDepth = isContext ? LIMITS.maxContextDepth : FREE_DEPTH;
    const end = scanObject(s, pos, 1, st);
    if (end < 0) return -1;
    if (isContext) {
      // Every code unit is one to three UTF-8 bytes (a surrogate pair is four for two).
      const length = end - pos;
      if (length * 3 > LIMITS.maxContextBytes && utf8Length(s.slice(pos, end)) > LIMITS.maxContextBytes) return -1;
    } else {
      const ctx: Validation = { errors: [], sizeBound: 0 };
      schema.check(JSON.parse(s.slice(pos, end)), name, ctx);
      if (ctx.errors.length > 0) return -1;
    }
    return end;
  };
}

function members(fields: Readonly<Record<string, Field>>, keep: ReadonlySet<string>): Member[] {
  // Sorting JS strings compares UTF-16 code units: RFC 8785 section 3.2.3.
  return Object.keys(fields)
    .sort()
    .map((name) => {
      const f = fields[name]!;
      const prefix = `${JSON.stringify(name)}:`;
      return { name, prefix, quoteAt: prefix.length - 2, required: f.required === true, match: compile(f.schema, name, keep.has(name)) };
    });
}

function objectMatcher(ms: readonly Member[], capture: Capture | undefined): Matcher {
  const n = ms.length;
  // requiredFrom[j]: some member at index j or later is required, so an
  // object that ends before reaching it lacks a required member.
  const requiredFrom: boolean[] = new Array<boolean>(n + 1).fill(false);
  for (let j = n - 1; j >= 0; j--) requiredFrom[j] = ms[j]!.required || requiredFrom[j + 1]!;
  return (s, pos, st) => {
    if (s.charCodeAt(pos) !== OPEN_BRACE) return -1;
    let i = pos + 1;
    let j = 0;
    if (s.charCodeAt(i) !== CLOSE_BRACE) {
      for (;;) {
        // The next member must be one of the schema members after the
        // previous one; skipping past a required member means it is missing.
        // A quote where the candidate's name would end rules out most others
        // before their names are compared.
        let m: Member;
        for (;;) {
          if (j === n) return -1;
          m = ms[j++]!;
          if (s.charCodeAt(i + m.quoteAt) === QUOTE && startsAt(s, i, m.prefix)) break;
          if (m.required) return -1;
        }
        const start = i + m.prefix.length;
        i = m.match(s, start, st);
        if (i < 0) return -1;
        if (capture !== undefined) capture(j - 1, start, i);
        const c = s.charCodeAt(i);
        if (c === CLOSE_BRACE) break;
        if (c !== COMMA) return -1;
        i++;
      }
    }
    return requiredFrom[j] ? -1 : i + 1;
  };
}

// --- the record -----------------------------------------------------------------

/** The record members whose values scanRecord returns. */
const KEPT = ['action', 'mac', 'mac_key_id', 'prev_hash', 'received_at', 'seq', 'tenant'] as const;

const RECORD = members({ ...EVENT_FIELDS, ...RECORD_LOG_FIELDS }, new Set<string>(KEPT));
const indexOf = (name: string): number => {
  const i = RECORD.findIndex((m) => m.name === name);
  if (i < 0) throw new Error(`record-scan: the record schema has no member ${name}`);
  return i;
};
const MAC = indexOf('mac');
const LOG = indexOf('log');
const SIGS = indexOf('sigs');
const [ACTION, MAC_VALUE, MAC_KEY_ID, PREV_HASH, RECEIVED_AT, SEQ, TENANT] = KEPT.map(indexOf) as [number, number, number, number, number, number, number];
const IS_KEPT = RECORD.map((m) => (KEPT as readonly string[]).includes(m.name));
const MAC_PREFIX_LENGTH = RECORD[MAC]!.prefix.length;
if (RECORD.length > 31) throw new Error('record-scan: member presence is a 31-bit mask');

/** What the record matcher captures, beyond the Scan scratch. */
interface RecordScan extends Scan {
  /** Bit i: member RECORD[i] is present. */
  present: number;
  /** Values of the KEPT members, by member index. */
  readonly kept: (string | number)[];
  /** Where the `"mac":` member starts, and where its value ends. */
  macStart: number;
  macEnd: number;
}

const ST: RecordScan = { backslash: 0, units: 0, escaped: false, value: 0, nodes: 0, maxDepth: 0, present: 0, kept: new Array<string | number>(RECORD.length).fill(0), macStart: 0, macEnd: 0 };

const matchRecord = objectMatcher(RECORD, (index, start, end) => {
  ST.present |= 1 << index;
  if (index === MAC) {
    ST.macStart = start - MAC_PREFIX_LENGTH;
    ST.macEnd = end;
  }
  if (IS_KEPT[index]) ST.kept[index] = ST.value;
});

/**
 * Recognizes a record line that is exactly the RFC 8785 canonical JSON of a
 * record validateRecord accepts, and returns the fields a verifier needs.
 * Returns undefined for anything else, or when in doubt: the caller then takes
 * the reference path (JSON.parse, validateRecord, canonicalize), which gives
 * the precise problem. The line is not parsed into objects.
 */
export function scanRecord(line: string, bytes?: Uint8Array): ScannedRecord | undefined {
  // Once for the whole line: a lone surrogate has no UTF-8 form (RFC 8785
  // section 3.2.2.2), and escapes never produce one in a canonical string.
  // `bytes`: the UTF-8 the caller decoded the line from, which can never
  // yield a lone surrogate (a decoder replaces what is not UTF-8 with U+FFFD)
  // and shows control characters without encoding the line again.
  if (bytes !== undefined ? hasControlByteIn(bytes) : !isWellFormedString(line) || hasControlCharacter(line)) return undefined;
  const backslash = line.indexOf('\\');
  ST.backslash = backslash < 0 ? line.length : backslash;
  ST.present = 0;
  if (matchRecord(line, 0, ST) !== line.length) return undefined;
  const kept = ST.kept;
  const action = kept[ACTION] as string;
  // validateRecord's rule for system records: `log` exactly on actions under
  // trailseal., and `sigs` only there.
  const system = action.startsWith(SYSTEM_ACTION_PREFIX);
  const hasLog = (ST.present & (1 << LOG)) !== 0;
  const hasSigs = (ST.present & (1 << SIGS)) !== 0;
  if (system ? !hasLog : hasLog || hasSigs) return undefined;
  return {
    seq: kept[SEQ] as number,
    tenant: kept[TENANT] as string,
    prevHash: kept[PREV_HASH] as string,
    receivedAt: kept[RECEIVED_AT] as string,
    macKeyId: kept[MAC_KEY_ID] as string,
    mac: kept[MAC_VALUE] as string,
    action,
    system,
    // `mac` is neither the first member (action sorts before it) nor the last
    // (mac_key_id after it), so a comma follows it.
    macInputParts: [line.slice(0, ST.macStart), line.slice(ST.macEnd + 1)],
  };
}
