// A strict JSON parser for attacker-controlled input. JSON.parse accepts what
// RFC 8259 allows but I-JSON (RFC 7493) forbids, and each of those gaps is a
// way to make two parties see different data under one hash: duplicate member
// names (which one wins differs between parsers), lone surrogates (no UTF-8
// form, so no canonical bytes), integers beyond 2^53 - 1 (silently rounded).
// It also has no depth or size limits. This parser accepts exactly the RFC
// 8259 grammar, rejects those gaps with a stable error code, and enforces
// size and nesting limits (the size of the whole text before parsing starts).
// The rules and the default limits are specified in
// docs/spec/canonical-json.md.
//
// Objects are ordinary `{}` objects (fast in every engine, and what JSON.parse
// returns). Every member is an own data property: a member named `__proto__`
// is defined with Object.defineProperty, so it never reaches the
// Object.prototype.__proto__ setter and never changes the object's prototype,
// and names that exist on Object.prototype (`constructor`, `toString`,
// `hasOwnProperty`, ...) are detected as duplicates only when they are own
// members, and are also defined rather than assigned so that a frozen
// Object.prototype (hardened JavaScript) cannot make the assignment fail.
import { fromUtf8, utf8 } from './bytes.js';
import { TrailsealError } from './errors.js';
import { isWellFormedString, jsonPath } from './jcs.js';

export interface JsonLimits {
  /** Maximum size of the document in UTF-8 bytes. */
  maxBytes?: number;
  /** Maximum nesting of arrays and objects; the outermost one is at depth 1. */
  maxDepth?: number;
  /** Maximum length of one string or member name, in UTF-16 code units after unescaping. */
  maxStringLength?: number;
  /** Maximum number of members of one object or elements of one array. */
  maxMembers?: number;
}

/** The limits parseJson and parseJsonBytes apply when none are given (docs/spec/canonical-json.md). */
export const DEFAULT_JSON_LIMITS: Readonly<Required<JsonLimits>> = Object.freeze({
  maxBytes: 1_048_576,
  maxDepth: 32,
  maxStringLength: 65_536,
  maxMembers: 10_000,
});

const hasOwn = Object.hasOwn;
const defineProperty = Object.defineProperty;
const objectPrototype: object = Object.prototype;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Parses JSON text strictly (see the file comment). Offsets in errors are
 * UTF-16 code unit offsets into `text`.
 */
export function parseJson(text: string, limits?: JsonLimits): unknown {
  const l = resolveLimits(limits);
  // Every code unit is at least one UTF-8 byte and at most three, so the exact
  // count is only needed between those bounds (and the native encoder is
  // several times faster at it than a JavaScript loop).
  if (!(text.length <= l.maxBytes) || (text.length * 3 > l.maxBytes && utf8(text).length > l.maxBytes)) {
    throw tooLarge(l.maxBytes);
  }
  const vouched = isWellFormedString(text) ? parseVouched(text, l) : undefined;
  return vouched !== undefined ? vouched.v : run(text, l, false);
}

/**
 * Parses UTF-8 JSON bytes strictly. The bytes must be well-formed UTF-8 (RFC
 * 3629; INVALID_UTF8 otherwise) and must not start with a byte order mark,
 * which RFC 8259 section 8.1 forbids senders to add. Offsets in errors are
 * byte offsets.
 */
export function parseJsonBytes(bytes: Uint8Array, limits?: JsonLimits): unknown {
  const l = resolveLimits(limits);
  if (!(bytes.length <= l.maxBytes)) throw tooLarge(l.maxBytes);
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw syntax('a byte order mark is not allowed (RFC 8259 section 8.1)', 0);
  }
  // Strict UTF-8 decoding leaves no unpaired surrogate in the text itself.
  const text = fromUtf8(bytes);
  const vouched = parseVouched(text, l, bytes);
  return vouched !== undefined ? vouched.v : run(text, l, true);
}

/**
 * The reference parser alone, without the JSON.parse fast path: what
 * parseJson must agree with (the property tests compare the two).
 */
export function parseJsonStrict(text: string, limits?: JsonLimits): unknown {
  return run(text, resolveLimits(limits), false);
}

// The fast path. The engine's JSON.parse accepts exactly the RFC 8259
// grammar (ECMA-404) and builds the same plain objects as the parser below,
// several times faster, but closes none of the gaps in the file comment.
// Its result is used only when a census of it proves the strict parser would
// have returned the same value:
//   - every string is within maxStringLength and, where the text spells any
//     \u escape, well formed (the text itself is: it came from strict UTF-8,
//     or parseJson checked it);
//   - every number is within +-(2^53-1): then the literal was either an exact
//     integer or a decimal, both read as the strict parser reads them (both
//     round correctly); beyond that only the literal tells an unsafe integer
//     from 1e20, so the strict parser decides;
//   - nesting and member counts are within the limits;
//   - no member was dropped as a duplicate: the text delimits exactly two
//     quotes per string it holds (member names and string values), and the
//     value holds as many; a duplicate name would leave at least one fewer.
// Anything else (a syntax error too) goes to the strict parser, which gives
// the exact error, or accepts, for example, 1e20.
function parseVouched(text: string, l: Required<JsonLimits>, bytes?: Uint8Array): { v: unknown } | undefined {
  let v: unknown;
  let strings: number;
  try {
    v = JSON.parse(text);
    strings = census(v, 0, l, text.includes('\\u'));
  } catch {
    // A syntax error, or nesting (within a raised maxDepth) deeper than the census can recurse.
    return undefined;
  }
  if (strings < 0) return undefined;
  // Without a backslash every quote delimits a string; in UTF-8 the byte 0x22
  // is only ever that character (RFC 3629 section 3: bytes of a multi-byte
  // sequence are 0x80 and up), so the bytes can be counted directly.
  const quotes = bytes !== undefined && bytes.indexOf(0x5c) === -1 ? countQuoteBytes(bytes) : delimitingQuotes(text);
  if (2 * strings !== quotes) return undefined;
  return { v };
}

/**
 * How many bytes are 0x22. Four at a time in the aligned middle: in
 * x = word ^ 0x22222222 a byte is zero exactly where the word held 0x22, and
 * ~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x | 0x7f7f7f7f) sets the top bit of
 * exactly those bytes (no carry crosses a byte: each sum is at most 0xfe).
 */
export function countQuoteBytes(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  let count = 0;
  for (; i < n && (bytes.byteOffset + i) % 4 !== 0; i++) if (bytes[i] === 0x22) count++;
  const words = (n - i) >>> 2;
  if (words > 0) {
    const w = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
    for (let k = 0; k < words; k++) {
      const x = w[k]! ^ 0x22222222;
      const zeros = ~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x | 0x7f7f7f7f);
      // One bit per lane at bits 7, 15, 23, 31: summed into the top byte.
      count += Math.imul(zeros >>> 7, 0x01010101) >>> 24;
    }
    i += 4 * words;
  }
  for (; i < n; i++) if (bytes[i] === 0x22) count++;
  return count;
}

/** The number of strings (member names included) in a JSON.parse result, or -1 if the strict parser must judge it. */
function census(v: unknown, depth: number, l: Required<JsonLimits>, escapes: boolean): number {
  switch (typeof v) {
    case 'string':
      return v.length <= l.maxStringLength && (!escapes || isWellFormedString(v)) ? 1 : -1;
    case 'number':
      return v <= MAX_SAFE && v >= -MAX_SAFE ? 0 : -1;
    case 'object':
      break;
    default:
      return 0;
  }
  if (v === null) return 0;
  if (!(depth < l.maxDepth)) return -1;
  let n = 0;
  if (Array.isArray(v)) {
    if (!(v.length <= l.maxMembers)) return -1;
    for (let i = 0; i < v.length; i++) {
      const c = census(v[i], depth + 1, l, escapes);
      if (c < 0) return -1;
      n += c;
    }
    return n;
  }
  // Own names only: JSON.parse defines every member, __proto__ included, as an own property.
  const o = v as Record<string, unknown>;
  const names = Object.keys(o);
  if (!(names.length <= l.maxMembers)) return -1;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (!(name.length <= l.maxStringLength) || (escapes && !isWellFormedString(name))) return -1;
    const c = census(o[name], depth + 1, l, escapes);
    if (c < 0) return -1;
    n += c + 1;
  }
  return n;
}

/** Quotes that open or close a string in valid JSON text: those after an even run of backslashes (escapes only occur inside strings). */
function delimitingQuotes(text: string): number {
  let n = 0;
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) {
    let b = i - 1;
    while (text.charCodeAt(b) === 0x5c) b--;
    if (((i - 1 - b) & 1) === 0) n++;
  }
  return n;
}

// Every limit check is written so that a NaN limit (a misconfiguration) fails
// closed: the comparison is false and the input is refused.
function resolveLimits(limits: JsonLimits | undefined): Required<JsonLimits> {
  if (limits === undefined) return DEFAULT_JSON_LIMITS;
  return {
    maxBytes: limits.maxBytes ?? DEFAULT_JSON_LIMITS.maxBytes,
    maxDepth: limits.maxDepth ?? DEFAULT_JSON_LIMITS.maxDepth,
    maxStringLength: limits.maxStringLength ?? DEFAULT_JSON_LIMITS.maxStringLength,
    maxMembers: limits.maxMembers ?? DEFAULT_JSON_LIMITS.maxMembers,
  };
}

function run(text: string, limits: Required<JsonLimits>, byteOffsets: boolean): unknown {
  const p = new Parser(text, limits);
  try {
    return p.document();
  } catch (e) {
    if (e instanceof TrailsealError) {
      if (!byteOffsets || typeof e.details.offset !== 'number') throw e;
      // Report where the problem is in the bytes the caller holds.
      const offset = utf8(text.slice(0, e.details.offset)).length;
      throw new TrailsealError(e.code, e.message.replace(/at offset \d+/, `at byte offset ${offset}`), { ...e.details, offset });
    }
    // A caller-raised maxDepth can exceed the engine's stack; that is still
    // "nested too deeply", not a crash.
    if (e instanceof RangeError) {
      throw new TrailsealError('JSON_TOO_DEEP', 'JSON nesting exceeds what this engine can parse', { limit: limits.maxDepth });
    }
    throw e;
  }
}

class Parser {
  pos = 0;
  // path[d] is the member name or index that leads from the container at
  // depth d to the value being parsed; rendered only for an error.
  readonly path: (string | number)[] = [];
  readonly text: string;
  readonly maxDepth: number;
  readonly maxStringLength: number;
  readonly maxMembers: number;

  constructor(text: string, limits: Required<JsonLimits>) {
    this.text = text;
    this.maxDepth = limits.maxDepth;
    this.maxStringLength = limits.maxStringLength;
    this.maxMembers = limits.maxMembers;
  }

  document(): unknown {
    this.skipWhitespace();
    const v = this.value(0);
    this.skipWhitespace();
    if (this.pos < this.text.length) throw this.unexpected('after the JSON value');
    return v;
  }

  // RFC 8259 section 2: ws = *( %x20 / %x09 / %x0A / %x0D ).
  skipWhitespace(): void {
    const text = this.text;
    let i = this.pos;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.pos = i;
  }

  /** A value at `depth` (the number of arrays and objects around it); whitespace already skipped. */
  value(depth: number): unknown {
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 0x22: // "
        return this.string(depth);
      case 0x7b: // {
        return this.object(depth);
      case 0x5b: // [
        return this.array(depth);
      case 0x74: // t
        return this.literal('true', true);
      case 0x66: // f
        return this.literal('false', false);
      case 0x6e: // n
        return this.literal('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number(depth);
        throw this.unexpected('where a value was expected');
    }
  }

  literal<T>(word: string, v: T): T {
    if (!this.text.startsWith(word, this.pos)) throw this.unexpected('where a value was expected');
    this.pos += word.length;
    return v;
  }

  object(depth: number): Record<string, unknown> {
    const start = this.pos;
    if (!(depth < this.maxDepth)) throw this.tooDeep(depth, start);
    const text = this.text;
    const path = this.path;
    const obj: Record<string, unknown> = {};
    this.pos++;
    this.skipWhitespace();
    if (text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return obj;
    }
    let count = 0;
    for (;;) {
      if (text.charCodeAt(this.pos) !== 0x22) throw this.unexpected('where a member name was expected');
      const keyAt = this.pos;
      const key = this.string(depth);
      path[depth] = key;
      // RFC 7493 section 2.3: member names must be unique.
      if (hasOwn(obj, key)) {
        const field = jsonPath(path, depth + 1);
        throw new TrailsealError('JSON_DUPLICATE_KEY', `duplicate member name at offset ${keyAt}: ${field}`, { field, offset: keyAt });
      }
      if (!(++count <= this.maxMembers)) throw this.tooMany(depth, keyAt);
      this.skipWhitespace();
      if (text.charCodeAt(this.pos) !== 0x3a) throw this.unexpected('where ":" was expected');
      this.pos++;
      this.skipWhitespace();
      const v = this.value(depth + 1);
      // A name found on Object.prototype (__proto__, constructor, ...) is
      // defined, never assigned: see the file comment.
      if (key in objectPrototype) defineProperty(obj, key, { value: v, writable: true, enumerable: true, configurable: true });
      else obj[key] = v;
      this.skipWhitespace();
      const c = text.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x2c) this.skipWhitespace();
      else if (c === 0x7d) return obj;
      else {
        this.pos--;
        throw this.unexpected('where "," or "}" was expected');
      }
    }
  }

  array(depth: number): unknown[] {
    const start = this.pos;
    if (!(depth < this.maxDepth)) throw this.tooDeep(depth, start);
    const text = this.text;
    const path = this.path;
    const arr: unknown[] = [];
    this.pos++;
    this.skipWhitespace();
    if (text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return arr;
    }
    for (let i = 0; ; i++) {
      if (!(i < this.maxMembers)) throw this.tooMany(depth, this.pos);
      path[depth] = i;
      arr.push(this.value(depth + 1));
      this.skipWhitespace();
      const c = text.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x2c) this.skipWhitespace();
      else if (c === 0x5d) return arr;
      else {
        this.pos--;
        throw this.unexpected('where "," or "]" was expected');
      }
    }
  }

  /**
   * A string (value or member name) starting at the opening quote. The common
   * case, no escapes, is one scan and one slice.
   */
  string(depth: number): string {
    const text = this.text;
    const n = text.length;
    const start = this.pos + 1;
    let i = start;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        this.pos = i + 1;
        if (!(i - start <= this.maxStringLength)) throw this.stringTooLong(depth, start - 1);
        return text.slice(start, i);
      }
      if (c === 0x5c || c < 0x20) break;
      if ((c & 0xf800) === 0xd800) {
        // Raw surrogates only occur in text that did not come from UTF-8. A
        // pair is fine; anything else is judged on the decoded string.
        if (c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
        else break;
      }
      i++;
    }
    return this.stringWithEscapes(depth, start, i);
  }

  /** Continues a string at `i`, the first escape or control character after `start`. */
  stringWithEscapes(depth: number, start: number, i: number): string {
    const text = this.text;
    const n = text.length;
    let out = text.slice(start, i);
    let runStart = i;
    let surrogates = false;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(runStart, i);
        this.pos = i + 1;
        // RFC 7493 section 2.1: the decoded string must be well-formed UTF-16,
        // however its surrogates were spelled (escaped or raw).
        if (surrogates && !isWellFormedString(out)) throw this.loneSurrogate(depth, start - 1);
        if (!(out.length <= this.maxStringLength)) throw this.stringTooLong(depth, start - 1);
        return out;
      }
      if (c < 0x20) {
        this.pos = i;
        throw this.syntaxHere('control character U+' + hex4(c) + ' must be escaped in a string (RFC 8259 section 7)');
      }
      if ((c & 0xf800) === 0xd800) surrogates = true;
      if (c !== 0x5c) {
        i++;
        continue;
      }
      if (i + 1 >= n) break;
      out += text.slice(runStart, i);
      const e = text.charCodeAt(i + 1);
      let decoded: string;
      switch (e) {
        case 0x22: decoded = '"'; break;
        case 0x5c: decoded = '\\'; break;
        case 0x2f: decoded = '/'; break;
        case 0x62: decoded = '\b'; break;
        case 0x66: decoded = '\f'; break;
        case 0x6e: decoded = '\n'; break;
        case 0x72: decoded = '\r'; break;
        case 0x74: decoded = '\t'; break;
        case 0x75: {
          const u = hexValue(text, i + 2);
          if (u < 0) {
            this.pos = i;
            throw this.syntaxHere('\\u must be followed by four hex digits');
          }
          if ((u & 0xf800) === 0xd800) surrogates = true;
          decoded = String.fromCharCode(u);
          i += 4;
          break;
        }
        default:
          this.pos = i;
          throw this.syntaxHere('invalid escape sequence (RFC 8259 section 7)');
      }
      out += decoded;
      i += 2;
      runStart = i;
      if (!(out.length <= this.maxStringLength)) throw this.stringTooLong(depth, start - 1);
    }
    this.pos = start - 1;
    throw this.syntaxHere('unterminated string');
  }

  // RFC 8259 section 6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  number(depth: number): number {
    const text = this.text;
    const start = this.pos;
    let i = start;
    let c = text.charCodeAt(i);
    const negative = c === 0x2d;
    if (negative) c = text.charCodeAt(++i);
    // Integers of up to 15 digits are exact in a double; accumulate them
    // directly instead of slicing and converting.
    let int = 0;
    const digitsStart = i;
    if (c === 0x30) {
      c = text.charCodeAt(++i);
      if (c >= 0x30 && c <= 0x39) {
        this.pos = i - 1;
        throw this.syntaxHere('leading zeros are not allowed (RFC 8259 section 6)');
      }
    } else if (c >= 0x31 && c <= 0x39) {
      do {
        int = int * 10 + (c - 0x30);
        c = text.charCodeAt(++i);
      } while (c >= 0x30 && c <= 0x39);
    } else {
      this.pos = i;
      throw this.syntaxHere('a digit must follow "-"');
    }
    const intDigits = i - digitsStart;
    let integer = true;
    if (c === 0x2e) {
      integer = false;
      c = text.charCodeAt(++i);
      if (!(c >= 0x30 && c <= 0x39)) {
        this.pos = i;
        throw this.syntaxHere('a digit must follow the decimal point');
      }
      do c = text.charCodeAt(++i);
      while (c >= 0x30 && c <= 0x39);
    }
    if (c === 0x65 || c === 0x45) {
      integer = false;
      c = text.charCodeAt(++i);
      if (c === 0x2b || c === 0x2d) c = text.charCodeAt(++i);
      if (!(c >= 0x30 && c <= 0x39)) {
        this.pos = i;
        throw this.syntaxHere('a digit must follow the exponent');
      }
      do c = text.charCodeAt(++i);
      while (c >= 0x30 && c <= 0x39);
    }
    this.pos = i;
    if (integer && intDigits <= 15) return negative ? -int : int;
    const v = Number(text.slice(start, i));
    // RFC 7493 section 2.2: numbers must be IEEE 754 doubles, and integers must
    // be exact; anything else would be silently changed by parsing.
    if (integer ? v > MAX_SAFE || v < -MAX_SAFE : v - v !== 0) {
      const field = jsonPath(this.path, depth);
      const why = integer ? 'an integer outside +-(2^53-1) loses precision' : 'the number overflows to infinity';
      throw new TrailsealError('JSON_NUMBER_RANGE', `number out of range at offset ${start}${field === '' ? '' : ` (${field})`}: ${why}`, { field, offset: start });
    }
    return v;
  }

  unexpected(where: string): TrailsealError {
    const c = this.text.charCodeAt(this.pos);
    if (c !== c) return this.syntaxHere(`unexpected end of input ${where}`);
    const shown = c >= 0x21 && c <= 0x7e ? `"${String.fromCharCode(c)}"` : `U+${hex4(c)}`;
    return this.syntaxHere(`unexpected ${shown} ${where}`);
  }

  syntaxHere(why: string): TrailsealError {
    return syntax(why, this.pos);
  }

  tooDeep(depth: number, offset: number): TrailsealError {
    const field = jsonPath(this.path, depth);
    return new TrailsealError('JSON_TOO_DEEP', `JSON nests deeper than ${this.maxDepth} at offset ${offset}`, { field, offset, limit: this.maxDepth });
  }

  tooMany(depth: number, offset: number): TrailsealError {
    const field = jsonPath(this.path, depth);
    return new TrailsealError('JSON_TOO_LARGE', `${field === '' ? 'the value' : field} has more than ${this.maxMembers} members at offset ${offset}`, { field, offset, limit: this.maxMembers });
  }

  stringTooLong(depth: number, offset: number): TrailsealError {
    const field = jsonPath(this.path, depth);
    return new TrailsealError('JSON_TOO_LARGE', `string longer than ${this.maxStringLength} at offset ${offset}${field === '' ? '' : ` (${field})`}`, { field, offset, limit: this.maxStringLength });
  }

  loneSurrogate(depth: number, offset: number): TrailsealError {
    const field = jsonPath(this.path, depth);
    return new TrailsealError('JSON_LONE_SURROGATE', `string with an unpaired surrogate at offset ${offset}${field === '' ? '' : ` (${field})`} (RFC 7493 section 2.1)`, { field, offset });
  }
}

/** The value of four hex digits at text[i, i+4), or -1. */
function hexValue(text: string, i: number): number {
  let v = 0;
  for (let k = i; k < i + 4; k++) {
    const c = text.charCodeAt(k);
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else return -1;
    v = (v << 4) | d;
  }
  return v;
}

function hex4(c: number): string {
  return c.toString(16).toUpperCase().padStart(4, '0');
}

function syntax(why: string, offset: number): TrailsealError {
  return new TrailsealError('JSON_SYNTAX', `JSON syntax error at offset ${offset}: ${why}`, { offset });
}

function tooLarge(limit: number): TrailsealError {
  return new TrailsealError('JSON_TOO_LARGE', `JSON document larger than ${limit} bytes`, { limit });
}
