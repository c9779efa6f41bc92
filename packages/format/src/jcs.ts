// RFC 8785 JSON Canonicalization Scheme (JCS): the one byte form of a JSON
// value that every hash, MAC and signature in Trailseal is computed over.
//
// This is on the hot path of every append and every verification. Two
// serializers produce the same bytes:
//
// - The fast path copies the value into fresh objects whose members are
//   inserted in canonical order, validating as it goes, and hands the copy to
//   the engine's JSON.stringify. For a well-formed string, JSON.stringify's
//   escaping is exactly RFC 8785 section 3.2.2.2, its numbers are exactly
//   section 3.2.2.3 (both are ECMAScript's own rules, which the RFC adopts),
//   and it emits members in insertion order. Leaving the escaping and the
//   concatenation to native code makes this path about 1.7 times as fast as
//   building the string in JavaScript (measured with bench/jcs.ts).
// - The reference path builds the string in JavaScript with a JSON path for
//   every error. The fast path gives up (without a message) on anything it
//   does not handle, and the reference path then either reports the precise
//   error or serializes the value: member names that are array indexes (the
//   engine enumerates those in numeric order, not code unit order), a
//   toJSON on Object.prototype or Array.prototype, values nested deeper
//   than FAST_DEPTH (which includes every cycle), and objects from another
//   realm.
import { TrailsealError } from './errors.js';

const objectPrototype: object = Object.prototype;
const arrayPrototype: object = Array.prototype;
const getPrototypeOf = Object.getPrototypeOf;
const objectKeys = Object.keys;
const isArray = Array.isArray;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const FAST_DEPTH = 64;
const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;

// String.prototype.isWellFormed (ES2024) answers in constant time for the
// engine's one-byte strings; older browsers get the JavaScript scan.
interface MaybeWellFormed {
  isWellFormed?: () => boolean;
}
const nativeWellFormed = typeof (String.prototype as MaybeWellFormed).isWellFormed === 'function';

/**
 * Renders a JSON path the way `details.field` spells it: member names dotted
 * (`actor.name`), array indexes in brackets (`grants[3]`), and member names
 * that are not identifiers as quoted JSON strings (`context["a.b"]`). The
 * root value is the empty path.
 */
export function jsonPath(segments: readonly (string | number)[], length = segments.length): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    const s = segments[i]!;
    if (typeof s === 'number') out += `[${s}]`;
    else if (IDENTIFIER.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/**
 * True when the string is well-formed UTF-16 (every surrogate is part of a
 * pair), that is, when it has a UTF-8 encoding. RFC 8785 section 3.2.2.2 and
 * I-JSON (RFC 7493 section 2.1) both require it of strings and member names.
 */
export function isWellFormedString(s: string): boolean {
  return nativeWellFormed ? (s as MaybeWellFormed).isWellFormed!() : loneSurrogateAt(s, 0) < 0;
}

/** Index of the first unpaired surrogate at or after `from`, or -1. */
function loneSurrogateAt(s: string, from: number): number {
  const n = s.length;
  for (let i = from; i < n; i++) {
    const c = s.charCodeAt(i);
    if ((c & 0xf800) !== 0xd800) continue;
    if (c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
    else return i;
  }
  return -1;
}

/**
 * Sorts member names by UTF-16 code units (RFC 8785 section 3.2.3), which is
 * what the relational operators compare. Objects are small and their names
 * often arrive in order already, so an in-place insertion sort (linear on
 * sorted input) beats Array.prototype.sort; large objects use the latter,
 * whose default order is the same.
 */
function sortKeys(keys: string[]): void {
  const n = keys.length;
  if (n > 32) {
    keys.sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const k = keys[i]!;
    if (keys[i - 1]! <= k) continue;
    let j = i - 1;
    do {
      keys[j + 1] = keys[j]!;
      j--;
    } while (j >= 0 && keys[j]! > k);
    keys[j + 1] = k;
  }
}

/**
 * The RFC 8785 canonical form of a JSON value: member names sorted by UTF-16
 * code units (section 3.2.3), numbers as ECMAScript Number::toString (section
 * 3.2.2.3), strings escaped as section 3.2.2.2 says, and no whitespace.
 *
 * Accepts null, booleans, finite numbers, well-formed strings, arrays and
 * plain objects (prototype Object.prototype or null). Anything else throws a
 * TrailsealError whose `details.field` is the JSON path of the bad value:
 * JCS_NON_FINITE_NUMBER, JCS_LONE_SURROGATE or JCS_UNSUPPORTED_VALUE (which
 * also covers undefined members: JSON.stringify would silently drop them, so
 * the signed bytes would not say what the caller meant). toJSON is never
 * called: what is hashed is the data itself, not what an object claims to be.
 */
export function canonicalize(value: unknown): string {
  if (!('toJSON' in arrayPrototype)) {
    try {
      return JSON.stringify(copySorted(value, 0));
    } catch (e) {
      if (e !== GIVE_UP && !(e instanceof RangeError)) throw e;
    }
  }
  try {
    return serialize(value, { seen: [], path: [] }, 0);
  } catch (e) {
    // Deeper than the engine's stack, or an output longer than its longest
    // string: still an answer with a code rather than a crash.
    if (e instanceof RangeError) {
      throw new TrailsealError('JCS_UNSUPPORTED_VALUE', `cannot canonicalize the value: ${e.message}`, { field: '' });
    }
    throw e;
  }
}

// --- fast path ---------------------------------------------------------------

// Thrown (not an Error, so no stack is captured) when the fast path hands over.
const GIVE_UP: object = Object.freeze({});

// Copies get this prototype: it has no properties and no prototype, so adding a
// member can never reach a setter (Object.prototype's __proto__, or one that
// other code installed) or fail on a frozen Object.prototype, and
// JSON.stringify finds no inherited toJSON. Unlike Object.create(null), such
// objects stay in the engine's fast (non-dictionary) representation.
const BARE: object = Object.freeze(Object.create(null) as object);

/** A validated copy of `v` with members inserted in canonical order. */
function copySorted(v: unknown, depth: number): unknown {
  switch (typeof v) {
    case 'string':
      if (nativeWellFormed ? !(v as MaybeWellFormed).isWellFormed!() : loneSurrogateAt(v, 0) >= 0) throw GIVE_UP;
      return v;
    case 'number':
      if (v - v !== 0) throw GIVE_UP;
      return v;
    case 'boolean':
      return v;
    case 'object': {
      if (v === null) return null;
      if (depth >= FAST_DEPTH) throw GIVE_UP;
      if (isArray(v)) {
        const n = v.length;
        const out: unknown[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = copySorted(v[i], depth + 1);
        return out;
      }
      const proto: unknown = getPrototypeOf(v);
      if (proto !== objectPrototype && proto !== null) throw GIVE_UP;
      const keys = objectKeys(v);
      sortKeys(keys);
      const n = keys.length;
      const record = v as Record<string, unknown>;
      const out = Object.create(BARE) as Record<string, unknown>;
      for (let i = 0; i < n; i++) {
        const k = keys[i]!;
        const c = k.charCodeAt(0);
        if ((c <= 0x39 && c >= 0x30 && isArrayIndex(k)) || !isWellFormedString(k)) throw GIVE_UP;
        out[k] = copySorted(record[k], depth + 1);
      }
      return out;
    }
    default:
      throw GIVE_UP;
  }
}

/** An ECMAScript array index: the canonical decimal form of an integer below 2^32 - 1. */
function isArrayIndex(k: string): boolean {
  return ARRAY_INDEX.test(k) && Number(k) < 4294967295;
}

// --- reference path ----------------------------------------------------------

// Per-call state: `seen[d]` is the array or object at depth d (for cycle
// detection, which only compares against the current ancestors), `path[d]`
// the member name or index that leads from it to the value at depth d + 1.
interface Walk {
  readonly seen: object[];
  readonly path: (string | number)[];
}

function serialize(v: unknown, w: Walk, depth: number): string {
  switch (typeof v) {
    case 'string':
      return quote(v, w, depth);
    case 'number':
      // RFC 8785 section 3.2.2.3 is ECMAScript Number::toString, which is what
      // string concatenation applies (and it already spells -0 as "0").
      if (v - v === 0) return '' + v;
      throw fail('JCS_NON_FINITE_NUMBER', `${v} has no JSON form (RFC 8785 section 3.2.2.3)`, w, depth);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      if (v === null) return 'null';
      if (isArray(v)) return serializeArray(v, w, depth);
      return serializeObject(v, w, depth);
    default:
      throw fail('JCS_UNSUPPORTED_VALUE', `a value of type ${typeof v} has no JSON form`, w, depth);
  }
}

function serializeArray(a: readonly unknown[], w: Walk, depth: number): string {
  enter(a, w, depth);
  const n = a.length;
  if (n === 0) return '[]';
  const path = w.path;
  path[depth] = 0;
  let out = '[' + serialize(a[0], w, depth + 1);
  for (let i = 1; i < n; i++) {
    path[depth] = i;
    out += ',' + serialize(a[i], w, depth + 1);
  }
  return out + ']';
}

function serializeObject(o: object, w: Walk, depth: number): string {
  const proto: unknown = getPrototypeOf(o);
  if (proto !== objectPrototype && proto !== null && !isForeignObjectPrototype(proto)) {
    const name = describe(o);
    throw fail('JCS_UNSUPPORTED_VALUE', `${name} is not a plain object and has no JSON form`, w, depth);
  }
  enter(o, w, depth);
  const keys = objectKeys(o);
  const n = keys.length;
  if (n === 0) return '{}';
  sortKeys(keys);
  const record = o as Record<string, unknown>;
  const path = w.path;
  let out = '{';
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    path[depth] = k;
    if (i > 0) out += ',';
    out += quote(k, w, depth + 1) + ':' + serialize(record[k], w, depth + 1);
  }
  return out + '}';
}

/** Records `c` as the ancestor at `depth`, rejecting it if it is already one. */
function enter(c: object, w: Walk, depth: number): void {
  const seen = w.seen;
  for (let i = 0; i < depth; i++) {
    if (seen[i] === c) throw fail('JCS_UNSUPPORTED_VALUE', 'the value contains itself (a cycle) and has no JSON form', w, depth);
  }
  seen[depth] = c;
}

/**
 * Section 3.2.2.2: JSON.stringify's string serialization is exactly the
 * required one (two-character escapes for \b \t \n \f \r " \\, \u00xx with
 * lowercase hex for the other controls, everything else as is) for every
 * well-formed string. Most strings need no escaping at all, so they are
 * scanned once and wrapped in quotes without calling into the engine.
 */
function quote(s: string, w: Walk, depth: number): string {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c & 0xf800) === 0xd800) return quoteSlow(s, i, w, depth);
  }
  return '"' + s + '"';
}

function quoteSlow(s: string, from: number, w: Walk, depth: number): string {
  const at = loneSurrogateAt(s, from);
  if (at >= 0) {
    const unit = s.charCodeAt(at).toString(16);
    throw fail('JCS_LONE_SURROGATE', `string has an unpaired surrogate \\u${unit} at index ${at}; it has no UTF-8 form (RFC 8785 section 3.2.2.2)`, w, depth);
  }
  return JSON.stringify(s);
}

/**
 * An Object.prototype from another realm (an iframe or a vm context): it has
 * no prototype of its own and its constructor is named Object. Objects made
 * there are as plain as ours.
 */
function isForeignObjectPrototype(proto: unknown): boolean {
  if (typeof proto !== 'object' || proto === null || getPrototypeOf(proto) !== null) return false;
  const ctor: unknown = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value;
  return typeof ctor === 'function' && ctor.name === 'Object';
}

function describe(o: object): string {
  const ctor: unknown = (o as { constructor?: unknown }).constructor;
  return typeof ctor === 'function' && ctor.name !== '' ? `a ${ctor.name}` : 'an object with a custom prototype';
}

function fail(code: 'JCS_NON_FINITE_NUMBER' | 'JCS_LONE_SURROGATE' | 'JCS_UNSUPPORTED_VALUE', why: string, w: Walk, depth: number): TrailsealError {
  const field = jsonPath(w.path, depth);
  return new TrailsealError(code, `cannot canonicalize ${field === '' ? 'the value' : field}: ${why}`, { field });
}
