// The fast path of POST /v1/events: a body's UTF-8 bytes straight to the
// canonical runs of its events (canonicalEventParts, record-codec.ts), in one
// pass, without building a JavaScript value or a string per member.
//
// The reference path is strict parsing (json.ts), validation (record.ts) and
// the compiled serializer (record-codec.ts): three passes, one of them over
// the object tree JSON.parse built, with every string of every event
// allocated twice. Most bodies are plain: no escapes in strings, integers
// only, members of known names. For those the canonical bytes of a member are
// its bytes in the body (RFC 8785 section 3.2.2.2: a string without escapes
// and without control characters is its own canonical form; section
// 3.2.2.3: an integer literal without a leading zero, fraction or exponent is
// its own ECMAScript Number::toString), and only the order of members
// changes (section 3.2.3).
//
// This reader is compiled from the same schema as the validator (the same
// limits, the same format checks) and vouches only for what it can prove: it
// returns undefined for anything it does not handle, and for anything the
// reference path would refuse. The caller then runs the reference path,
// which gives the exact error or the result. So it never decides alone that
// a body is bad, and the property tests (test/event-reader.test.ts) check
// that whenever it returns a result, the reference path accepts the body and
// gives exactly the same bytes.
import { EVENT_FIELDS, LIMITS, SYSTEM_ACTION_PREFIX } from './record.js';
import { EVENT_RUN_COUNT, EVENT_RUN_LAYOUT, type EventParts } from './record-codec.js';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from './json.js';
import { TrailsealError } from './errors.js';
import type { Field, Schema } from './schema.js';

/** Producer events in canonical form, ready for the sealer (LogSealer.appendPrepared). */
export interface PreparedEvents {
  /** Event i's id. */
  readonly ids: readonly string[];
  /** Every event's runs (canonicalEventParts), UTF-8, end to end. */
  readonly data: Uint8Array;
  /**
   * EVENT_RUN_COUNT end offsets into `data` per event: run r of event i ends
   * at ends[i * EVENT_RUN_COUNT + r] and starts where the run before it ends
   * (the first at 0).
   */
  readonly ends: Uint32Array;
}

export interface ReadLimits extends JsonLimits {
  /** Most events one body may hold. */
  readonly maxBatchEvents: number;
}

// --- the schema, compiled ------------------------------------------------------

const STR = 0;
const ENUM = 1;
const INT = 2;
const BOOL = 3;
const ARR = 4;
const OBJ = 5;
const FREE = 6;

interface RStr {
  readonly k: typeof STR;
  readonly min: number;
  readonly max: number;
  readonly check: ((s: string) => boolean) | undefined;
}
interface REnum {
  readonly k: typeof ENUM;
  /** Each allowed value's bytes (schema enums are ASCII). */
  readonly values: readonly Uint8Array[];
}
interface RInt {
  readonly k: typeof INT;
  readonly min: number;
  readonly max: number;
}
interface RArr {
  readonly k: typeof ARR;
  readonly item: RNode;
  readonly max: number;
}
interface RObj {
  readonly k: typeof OBJ;
  /** The members in canonical order. */
  readonly fields: readonly RField[];
  /** The indices of the members whose name starts with byte c, by c (0-255). */
  readonly byFirst: readonly (readonly number[])[];
  readonly required: number;
}
interface RField {
  readonly name: Uint8Array;
  /** The constant piece `"name":`. */
  readonly prefix: number;
  readonly node: RNode;
}
type RNode = RStr | REnum | RInt | { readonly k: typeof BOOL } | RArr | RObj | { readonly k: typeof FREE };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// Constant pieces of output (see "pieces" below): punctuation, then each
// schema member's `"name":`, numbered as compiled.
const CONSTANTS: Uint8Array[] = [];
function constant(text: string): number {
  CONSTANTS.push(encoder.encode(text));
  return CONSTANTS.length - 1;
}
const EMPTY = constant('');
const COMMA = constant(',');
const OPEN_OBJECT = constant('{');
const CLOSE_OBJECT = constant('}');

function compileNode(schema: Schema): RNode {
  switch (schema.kind) {
    case 'string':
      return { k: STR, min: schema.min ?? 1, max: schema.max, check: schema.check };
    case 'enum':
      return { k: ENUM, values: schema.values.map((v) => encoder.encode(v)) };
    case 'integer':
      return { k: INT, min: schema.min, max: schema.max };
    case 'boolean':
      return { k: BOOL };
    case 'array':
      return { k: ARR, item: compileNode(schema.items), max: schema.max };
    case 'object':
      return compileObject(schema.fields);
    case 'free':
      return { k: FREE };
  }
}

function compileObject(fields: Readonly<Record<string, Field>>): RObj {
  // Canonical order: UTF-16 code units (RFC 8785 section 3.2.3); schema names are ASCII.
  const names = Object.keys(fields).sort();
  if (names.length > 31) throw new Error('event-reader: an object of more than 31 members does not fit the presence mask');
  const byFirst: number[][] = Array.from({ length: 256 }, () => []);
  let required = 0;
  const out = names.map((name, i) => {
    // readMembers relies on it: such a name is its own JSON spelling.
    if (!/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/.test(name)) throw new Error(`event-reader: the member name ${JSON.stringify(name)} is not printable ASCII without quotes or backslashes`);
    byFirst[name.charCodeAt(0)]!.push(i);
    if (fields[name]!.required === true) required |= 1 << i;
    return { name: encoder.encode(name), prefix: constant(`${JSON.stringify(name)}:`), node: compileNode(fields[name]!.schema) };
  });
  return { k: OBJ, fields: out, byFirst, required };
}

const EVENT = compileObject(EVENT_FIELDS);
const RUNS = EVENT_RUN_LAYOUT.runs;
if (EVENT_RUN_LAYOUT.names.join() !== EVENT.fields.map((f) => decoder.decode(f.name)).join()) {
  throw new Error('event-reader: the event members are not in the order of the canonical runs');
}
const ID_AT = EVENT_RUN_LAYOUT.names.indexOf('id');
const ACTION_AT = EVENT_RUN_LAYOUT.names.indexOf('action');
const CONTEXT_AT = EVENT_RUN_LAYOUT.names.indexOf('context');
if (EVENT.fields[CONTEXT_AT]?.node.k !== FREE || EVENT.fields.some((f, i) => i !== CONTEXT_AT && f.node.k === FREE)) {
  throw new Error('event-reader: context must be the one free-form member of an event');
}
/** The bytes of `"context":`, before the context's canonical form in the output. */
const CONTEXT_PREFIX_BYTES = EVENT.fields[CONTEXT_AT]!.name.length + 3;
for (const at of [ID_AT, ACTION_AT]) {
  const node = EVENT.fields[at]?.node;
  // runChecks takes their text from their format checks.
  if (node?.k !== STR || node.check === undefined) throw new Error('event-reader: the event id and action must be strings with a format check');
}

// --- reading -----------------------------------------------------------------

/** Thrown to give up; readEvents turns it into undefined. */
const GIVE_UP: unique symbol = Symbol('give up');

// The state of one readEvents call, in module variables: the reader is
// synchronous and never re-entered.
let b: Uint8Array = new Uint8Array(0);
let p = 0;

// An event is read into pieces, not bytes: two numbers each, a range [start,
// end) of the body, or ~id and 0 for a constant (and the SKIP and CALL
// pieces below). Members are put in canonical order without moving their
// pieces (callInOrder), and every byte of output is copied once, from the
// body, when the event's runs are gathered.
let pieces: Int32Array = new Int32Array(2 * 1024);
let np = 0;
/** The first piece of the member being read: pieces before it are not extended. */
let floor = 0;
/** Member spans of the objects open, three numbers each: member index (or 0 in context), first and end piece number. */
let spans: Int32Array = new Int32Array(3 * 256);
let sp = 0;
let depth = 0;
let maxDepth = 0;
let maxMembers = 0;
let maxString = 0;
/** Members and items inside the current event's context, over all levels (LIMITS.maxContextNodes). */
let contextNodes = 0;
/** The event's id and action, as read. */
let eventId = '';
let eventAction = '';

// Format checks run once the event is read (giving up then is as good as
// giving up at once), on its checked strings decoded together: one
// TextDecoder call per event instead of one per string, which cost about
// 0.2 us however short the string, about 2 us per rich event
// (bench/README.md, seventh session).
/** The bytes of the event's checked strings, end to end. */
let checkBytes = new Uint8Array(1024);
let checkLen = 0;
/** Per checked string: its format check, and where it ends in the decoded text (UTF-16 code units). */
const checks: ((s: string) => boolean)[] = [];
let checkEnds: Int32Array = new Int32Array(64);
let checkCount = 0;
let checkUnits = 0;
/** Which checked strings are the event's id and action. */
let idCheck = -1;
let actionCheck = -1;

/** Queues the check of the string at [from, to) of the body, `units` UTF-16 code units long. */
function deferCheck(check: (s: string) => boolean, from: number, to: number, units: number): void {
  if (checkLen + to - from > checkBytes.length) {
    const bigger = new Uint8Array(Math.max(2 * checkBytes.length, checkLen + to - from));
    bigger.set(checkBytes.subarray(0, checkLen));
    checkBytes = bigger;
  }
  const src = b;
  const out = checkBytes;
  let q = checkLen;
  for (let i = from; i < to; i++) out[q++] = src[i]!;
  checkLen = q;
  if (checkCount === checkEnds.length) checkEnds = grow(checkEnds, checkCount + 1);
  checks[checkCount] = check;
  checkUnits += units;
  checkEnds[checkCount++] = checkUnits;
}

/** Runs the event's queued checks; takes its id and action from their text. */
function runChecks(): void {
  // Every byte was checked well-formed UTF-8 by scanString: this cannot throw.
  const text = decoder.decode(checkBytes.subarray(0, checkLen));
  if (text.length !== checkUnits) giveUp();
  let from = 0;
  for (let k = 0; k < checkCount; k++) {
    const end = checkEnds[k]!;
    const s = text.slice(from, end);
    from = end;
    if (!checks[k]!(s)) giveUp();
    if (k === idCheck) eventId = s;
    else if (k === actionCheck) eventAction = s;
  }
}

function giveUp(): never {
  throw GIVE_UP;
}

function ws(): void {
  const src = b;
  let i = p;
  let c = src[i];
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = src[++i];
  p = i;
}

/**
 * After a member or an item: reads `,` (more follow: false) or `close` (the
 * last one: true), with the whitespace around; anything else ends the read.
 */
function endOfMember(close: number): boolean {
  ws();
  const c = b[p++];
  if (c === close) return true;
  if (c !== 0x2c) giveUp();
  ws();
  return false;
}

function enter(): void {
  if (++depth > maxDepth) giveUp();
}

function grow(a: Int32Array, need: number): Int32Array {
  const bigger = new Int32Array(Math.max(need, 2 * a.length));
  bigger.set(a);
  return bigger;
}

/**
 * A piece of the body: [start, end). One that continues the piece before it
 * in the body extends it (never below `floor`, where a member starts that may
 * move): compact JSON then gathers a member such as `"name":"value"`, or a
 * whole array of scalars, in one copy.
 */
function piece(start: number, end: number): void {
  if (np > floor && pieces[np - 1] === start && pieces[np - 2]! >= 0) {
    pieces[np - 1] = end;
    return;
  }
  if (np + 2 > pieces.length) pieces = grow(pieces, np + 2);
  pieces[np] = start;
  pieces[np + 1] = end;
  np += 2;
}

// Two more kinds of piece, below every constant's ~id: SKIP (gathering
// goes on at piece pieces[k + 1]) and CALL, which takes two slots (the
// pieces [pieces[k + 1], pieces[k + 2]) are gathered, then the piece after
// it). readObject uses them to put an object's members in canonical order
// without moving their pieces.
const SKIP = -0x40000000;
const CALL = -0x40000001;

function call(from: number, to: number): void {
  if (np + 4 > pieces.length) pieces = grow(pieces, np + 4);
  pieces[np] = CALL;
  pieces[np + 1] = from;
  pieces[np + 2] = to;
  pieces[np + 3] = 0;
  np += 4;
}

/** A constant piece. */
function konst(id: number): void {
  if (np + 2 > pieces.length) pieces = grow(pieces, np + 2);
  pieces[np] = ~id;
  pieces[np + 1] = 0;
  np += 2;
}

function pushSpan(key: number, first: number, end: number): void {
  if (sp + 3 > spans.length) spans = grow(spans, sp + 3);
  spans[sp] = key;
  spans[sp + 1] = first;
  spans[sp + 2] = end;
  sp += 3;
}

/**
 * Reads the string at p (at its opening quote) and returns its length in
 * UTF-16 code units; p ends after the closing quote. Gives up on an escape, a
 * control character (invalid raw in JSON) or bytes that are not well-formed
 * UTF-8 (RFC 3629 section 4, as the strict decoder: no overlong forms, no
 * surrogates, nothing above U+10FFFF), so the string's bytes are its
 * canonical form and it is well formed.
 */
function scanString(): number {
  const src = b;
  let i = p + 1;
  let units = 0;
  for (;;) {
    const c = src[i];
    if (c === undefined) giveUp();
    if (c === 0x22) break;
    if (c < 0x80) {
      if (c === 0x5c || c < 0x20) giveUp();
      i++;
      units++;
      continue;
    }
    const c1 = src[i + 1] ?? 0;
    if (c >= 0xc2 && c <= 0xdf) {
      if ((c1 & 0xc0) !== 0x80) giveUp();
      i += 2;
      units++;
    } else if (c >= 0xe0 && c <= 0xef) {
      const lo = c === 0xe0 ? 0xa0 : 0x80;
      const hi = c === 0xed ? 0x9f : 0xbf;
      if (c1 < lo || c1 > hi || ((src[i + 2] ?? 0) & 0xc0) !== 0x80) giveUp();
      i += 3;
      units++;
    } else if (c >= 0xf0 && c <= 0xf4) {
      const lo = c === 0xf0 ? 0x90 : 0x80;
      const hi = c === 0xf4 ? 0x8f : 0xbf;
      if (c1 < lo || c1 > hi || ((src[i + 2] ?? 0) & 0xc0) !== 0x80 || ((src[i + 3] ?? 0) & 0xc0) !== 0x80) giveUp();
      i += 4;
      units += 2;
    } else giveUp();
  }
  if (units > maxString) giveUp();
  p = i + 1;
  return units;
}

/** Reads an integer literal at p as a piece; gives up on anything whose canonical form differs from its spelling or that is not a safe integer. */
function readInteger(): number {
  const src = b;
  const start = p;
  let i = p;
  const negative = src[i] === 0x2d;
  if (negative) i++;
  let c = src[i]!;
  let v = 0;
  if (c === 0x30) {
    // 0 alone; -0 is spelled 0 in canonical form.
    if (negative) giveUp();
    c = src[++i]!;
  } else if (c >= 0x31 && c <= 0x39) {
    let digits = 0;
    do {
      v = v * 10 + (c - 0x30);
      if (++digits > 16) giveUp();
      c = src[++i]!;
    } while (c >= 0x30 && c <= 0x39);
  } else giveUp();
  // A fraction, an exponent or another digit after a leading 0: the reference decides.
  if (c === 0x2e || c === 0x65 || c === 0x45 || (c >= 0x30 && c <= 0x39)) giveUp();
  // Above 2^53 - 1 the value computed here may be rounded, but it stays above the bound.
  if (v > Number.MAX_SAFE_INTEGER) giveUp();
  p = i;
  piece(start, i);
  return negative ? -v : v;
}

function readLiteral(word: Uint8Array): void {
  for (let i = 0; i < word.length; i++) if (b[p + i] !== word[i]) giveUp();
  piece(p, p + word.length);
  p += word.length;
}

const TRUE = encoder.encode('true');
const FALSE = encoder.encode('false');
const NULL = encoder.encode('null');

function readValue(node: RNode): void {
  switch (node.k) {
    case STR: {
      if (b[p] !== 0x22) giveUp();
      const start = p;
      const units = scanString();
      if (units < node.min || units > node.max) giveUp();
      if (node.check !== undefined) deferCheck(node.check, start + 1, p - 1, units);
      piece(start, p);
      return;
    }
    case ENUM: {
      if (b[p] !== 0x22) giveUp();
      const start = p;
      scanString();
      const len = p - start - 2;
      let hit = false;
      for (const v of node.values) {
        if (v.length !== len) continue;
        let i = 0;
        while (i < len && b[start + 1 + i] === v[i]) i++;
        if (i === len) {
          hit = true;
          break;
        }
      }
      if (!hit) giveUp();
      piece(start, p);
      return;
    }
    case INT: {
      const v = readInteger();
      if (v < node.min || v > node.max) giveUp();
      return;
    }
    case BOOL:
      if (b[p] === 0x74) readLiteral(TRUE);
      else if (b[p] === 0x66) readLiteral(FALSE);
      else giveUp();
      return;
    case ARR:
      readArray(node.max, node.item, 0);
      return;
    case OBJ:
      readObject(node);
      return;
    case FREE:
      if (b[p] !== 0x7b) giveUp();
      readContext();
      return;
  }
}

/**
 * Reads an array (p at its `[`) as pieces of the body: at most `max` items,
 * each read by readValue(item) or, inside context (no item schema), by
 * readFree at the next level, counted against LIMITS.maxContextNodes.
 */
function readArray(max: number, item: RNode | undefined, level: number): void {
  if (b[p] !== 0x5b) giveUp();
  // Brackets and commas are pieces of the body too: a compact array of scalars is one piece.
  piece(p, ++p);
  enter();
  ws();
  if (b[p] === 0x5d) piece(p, ++p);
  else {
    let count = 0;
    for (;;) {
      if (++count > max || count > maxMembers) giveUp();
      if (item !== undefined) readValue(item);
      else {
        if (++contextNodes > LIMITS.maxContextNodes) giveUp();
        readFree(level + 1);
      }
      ws();
      const c = b[p];
      if (c !== 0x5d && c !== 0x2c) giveUp();
      piece(p, ++p);
      if (c === 0x5d) break;
      ws();
    }
  }
  depth--;
}

/**
 * Reads the members of a schema object (p after its `{`), leaving each one's
 * span on the stack: its pieces are a separator (`,` or nothing; none at the
 * top, where the runs are cut later), `"name":` and the value. Returns
 * whether they came in canonical order.
 */
function readMembers(node: RObj, top: boolean): boolean {
  let seen = 0;
  let last = -1;
  let inOrder = true;
  let count = 0;
  ws();
  if (b[p] === 0x7d) {
    p++;
  } else {
    for (;;) {
      if (b[p] !== 0x22) giveUp();
      // A name matches a schema name when its bytes are that name's, then a
      // quote: schema names are ASCII without quotes, backslashes or control
      // characters, so such a name has no escape and is that name. Anything
      // else cannot match one, and ends the read (the reference decides).
      const src = b;
      const keyStart = p + 1;
      const bucket = node.byFirst[src[keyStart] ?? 0]!;
      let at = -1;
      let name: Uint8Array | undefined;
      for (let k = 0; k < bucket.length; k++) {
        const f = bucket[k]!;
        const n = node.fields[f]!.name;
        let i = 1;
        while (i < n.length && src[keyStart + i] === n[i]) i++;
        if (i === n.length && src[keyStart + i] === 0x22) {
          at = f;
          name = n;
          break;
        }
      }
      if (name === undefined) giveUp();
      // Over the limit, the reference refuses the name first.
      if (name.length > maxString) giveUp();
      p = keyStart + name.length + 1;
      const field = node.fields[at]!;
      if ((seen & (1 << at)) !== 0) giveUp();
      seen |= 1 << at;
      if (++count > maxMembers) giveUp();
      const first = np;
      if (!top) konst(count > 1 ? COMMA : EMPTY);
      floor = np;
      if (src[p] === 0x3a) {
        // `"name":` as written is its canonical form.
        piece(keyStart - 1, ++p);
      } else {
        ws();
        if (b[p] !== 0x3a) giveUp();
        p++;
        konst(field.prefix);
      }
      ws();
      readValue(field.node);
      if (top) {
        // Both have a format check: the last one queued is theirs.
        if (at === ID_AT) idCheck = checkCount - 1;
        else if (at === ACTION_AT) actionCheck = checkCount - 1;
      }
      pushSpan(at, first, np);
      if (at < last) inOrder = false;
      last = at;
      if (endOfMember(0x7d)) break;
    }
  }
  if ((seen & node.required) !== node.required) giveUp();
  return inOrder;
}

function readObject(node: RObj): void {
  if (b[p] !== 0x7b) giveUp();
  p++;
  enter();
  const base = sp;
  konst(OPEN_OBJECT);
  // Room for a jump over the members, should they come out of canonical order.
  const jump = np;
  konst(EMPTY);
  if (!readMembers(node, false)) {
    // Placed by member index, not sorted: a span's key is its member's canonical index.
    let n = 0;
    for (let i = base; i < sp; i += 3) slots[spans[i]!] = i;
    for (let m = 0; m < node.fields.length; m++) {
      if (slots[m]! < 0) continue;
      order[n++] = slots[m]!;
      slots[m] = -1;
    }
    callInOrder(jump, order, n);
  }
  sp = base;
  konst(CLOSE_OBJECT);
  depth--;
}

/** Span stack index by member index, for the object being put in order (-1: absent). */
const slots = new Int32Array(32).fill(-1);
const order = new Int32Array(32);

/**
 * Puts the members whose spans are on the stack in `order` (span stack
 * indices, `count` of them): their pieces stay where they are, and the
 * placeholder at `jump` (before the first) becomes a SKIP to a table, written
 * here, that CALLs each in turn without the separator it was read with,
 * after the separator of its new place.
 */
function callInOrder(jump: number, order: ArrayLike<number>, count: number): void {
  pieces[jump] = SKIP;
  pieces[jump + 1] = np;
  for (let k = 0; k < count; k++) {
    const i = order[k]!;
    konst(k === 0 ? EMPTY : COMMA);
    call(spans[i + 1]! + 2, spans[i + 2]!);
  }
}

/**
 * Compares two context members by name, given their span stack indices: a
 * member's second piece is its name, quoted, from the body; names are ASCII
 * (checked when read), so byte order is UTF-16 code unit order (RFC 8785
 * section 3.2.3). Equal names: a duplicate, which the reference refuses.
 */
function compareNames(x: number, y: number): number {
  const src = b;
  let i = pieces[spans[x + 1]! + 2]! + 1;
  let j = pieces[spans[y + 1]! + 2]! + 1;
  for (;;) {
    const c = src[i]!;
    const d = src[j]!;
    if (c === 0x22 || d === 0x22) {
      if (c === d) giveUp();
      return c === 0x22 ? -1 : 1;
    }
    if (c !== d) return c - d;
    i++;
    j++;
  }
}

/** `context`: any JSON object, within LIMITS, into canonical form (p at its `{`); readEvent checks its size when it is gathered. */
function readContext(): void {
  contextNodes = 0;
  readFree(1);
}

/** A value inside context at context depth `level` (the context object is 1; checkContext counts the same way). */
function readFree(level: number): void {
  if (level > LIMITS.maxContextDepth) giveUp();
  const c = b[p];
  if (c === 0x22) {
    const start = p;
    scanString();
    piece(start, p);
  } else if (c === 0x7b) {
    p++;
    enter();
    const base = sp;
    konst(OPEN_OBJECT);
    const jump = np;
    konst(EMPTY);
    let count = 0;
    let inOrder = true;
    ws();
    if (b[p] === 0x7d) p++;
    else {
      for (;;) {
        if (b[p] !== 0x22) giveUp();
        const keyStart = p;
        scanString();
        // Names beyond ASCII would need UTF-16 order (RFC 8785 section 3.2.3): the reference sorts those.
        for (let i = keyStart + 1; i < p - 1; i++) if (b[i]! >= 0x80) giveUp();
        if (++count > maxMembers || ++contextNodes > LIMITS.maxContextNodes) giveUp();
        const first = np;
        konst(count > 1 ? COMMA : EMPTY);
        floor = np;
        piece(keyStart, p);
        ws();
        if (b[p] !== 0x3a) giveUp();
        piece(p, ++p);
        ws();
        readFree(level + 1);
        pushSpan(0, first, np);
        if (count > 1 && compareNames(sp - 6, sp - 3) > 0) inOrder = false;
        if (endOfMember(0x7d)) break;
      }
    }
    if (!inOrder) {
      const byName: number[] = [];
      for (let i = base; i < sp; i += 3) byName.push(i);
      byName.sort(compareNames);
      callInOrder(jump, byName, byName.length);
    }
    sp = base;
    konst(CLOSE_OBJECT);
    depth--;
  } else if (c === 0x5b) readArray(Infinity, undefined, level);
  else if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) readInteger();
  else if (c === 0x74) readLiteral(TRUE);
  else if (c === 0x66) readLiteral(FALSE);
  else if (c === 0x6e) readLiteral(NULL);
  else giveUp();
}

// --- events ------------------------------------------------------------------

/**
 * The workspace of a read: a copy of the body at its start, the output (the
 * runs of the events read so far, `o` bytes) from `outAt`. With both in one
 * buffer a piece is copied by copyWithin, a memmove that costs the same for
 * 10 bytes as for 60 (about 17 ns on the two-core machine), where a byte loop
 * costs about 2 ns a byte and TypedArray#set needs a subarray made first.
 * It is kept for the next read up to WORKSPACE_KEPT bytes.
 */
let work: Uint8Array = new Uint8Array(0);
/** Where b[0] is in the workspace (an NDJSON body is read a line at a time as b). */
let bAt = 0;
let outAt = 0;
let o = 0;
/** Bodies of up to half this size (a 1000-event batch is 1.3 MB) reuse one workspace per thread. */
const WORKSPACE_KEPT = 4 * 1024 * 1024;
/** Pieces up to this long are copied byte by byte: cheaper than a call to copyWithin. */
const SHORT_PIECE = 12;
let ids: string[] = [];
let ends = new Uint32Array(0);
let events = 0;
let maxEvents = 0;

/** First and end piece of each top-level member, by canonical index (-1: absent). */
const memberPieces = new Int32Array(2 * EVENT.fields.length);

/** Copies pieces [from, to) to the output, following SKIP and CALL pieces. */
function gather(from: number, to: number): void {
  const w = work;
  const at = bAt;
  let q = outAt + o;
  for (let k = from; k < to; k += 2) {
    const s = pieces[k]!;
    if (s >= 0) {
      const e = pieces[k + 1]!;
      if (e - s <= SHORT_PIECE) for (let i = at + s; i < at + e; i++) w[q++] = w[i]!;
      else {
        w.copyWithin(q, at + s, at + e);
        q += e - s;
      }
    } else if (s > SKIP) {
      const c = CONSTANTS[~s]!;
      for (let i = 0; i < c.length; i++) w[q++] = c[i]!;
    } else if (s === SKIP) {
      k = pieces[k + 1]! - 2;
    } else {
      o = q - outAt;
      gather(pieces[k + 1]!, pieces[k + 2]!);
      q = outAt + o;
      k += 2;
    }
  }
  o = q - outAt;
}

/** Reads one event object (p at its `{`) and appends its runs to the output. */
function readEvent(): void {
  if (b[p] !== 0x7b) giveUp();
  if (++events > maxEvents) giveUp();
  p++;
  enter();
  np = 0;
  sp = 0;
  checkLen = 0;
  checkCount = 0;
  checkUnits = 0;
  idCheck = -1;
  actionCheck = -1;
  // The members are read in the body's order, then gathered into runs in canonical order.
  readMembers(EVENT, true);
  runChecks();
  memberPieces.fill(-1);
  for (let i = 0; i < sp; i += 3) {
    memberPieces[2 * spans[i]!] = spans[i + 1]!;
    memberPieces[2 * spans[i]! + 1] = spans[i + 2]!;
  }
  sp = 0;
  if (eventAction.startsWith(SYSTEM_ACTION_PREFIX)) giveUp();
  const e = events - 1;
  if (ends.length < (e + 1) * EVENT_RUN_COUNT) {
    const bigger = new Uint32Array(2 * ends.length + EVENT_RUN_COUNT);
    bigger.set(ends);
    ends = bigger;
  }
  const start = o;
  let nonEmpty = 0;
  for (let r = 0; r < RUNS.length; r++) {
    const [lo, hi] = RUNS[r]!;
    const runStart = o;
    for (let m = lo; m < hi; m++) {
      const first = memberPieces[2 * m]!;
      if (first < 0) continue;
      if (o > runStart) work[outAt + o++] = 0x2c;
      const before = o;
      gather(first, memberPieces[2 * m + 1]!);
      // The context's canonical size (LIMITS.maxContextBytes), as gathered.
      if (m === CONTEXT_AT && o - before - CONTEXT_PREFIX_BYTES > LIMITS.maxContextBytes) giveUp();
    }
    ends[e * EVENT_RUN_COUNT + r] = o;
    if (o > runStart) nonEmpty++;
  }
  // Braces, the runs, and a comma between runs: the event's canonical size (record.ts, LIMITS.maxEventBytes).
  if (o - start + 2 + Math.max(0, nonEmpty - 1) > LIMITS.maxEventBytes) giveUp();
  ids.push(eventId);
  depth--;
}

/**
 * Reads a POST /v1/events body (`json`: one event or an array of them;
 * `ndjson`: one event per line) into its events' canonical runs, or returns
 * undefined: for any body the reference path refuses, and for any it cannot
 * vouch for (escapes in strings, numbers that are not plain integers, names
 * beyond ASCII in context, ...). When it returns a result, the reference
 * path accepts the body and gives exactly the same result.
 */
export function readEvents(bytes: Uint8Array, kind: 'json' | 'ndjson', limits: ReadLimits): PreparedEvents | undefined {
  return read(bytes, bytes.length, kind, limits, false);
}

/**
 * readEvents of the body at [0, n) of `room`, a buffer the caller owns with
 * room for the output after the body (at least 2n bytes): the body is read
 * where it is, and the result's data is a view of `room` from n, not a
 * copy. An ingest thread is handed such a buffer and hands it back whole:
 * the copies of the body into the workspace and of the output out of it
 * cost it about 0.6 us per event of a 1000-event body (bench/README.md,
 * seventh session). The caller must not write to `room` while the result is
 * in use.
 */
export function readEventsInPlace(room: Uint8Array, n: number, kind: 'json' | 'ndjson', limits: ReadLimits): PreparedEvents | undefined {
  if (!(Number.isInteger(n) && n >= 0 && room.length >= 2 * n)) throw new TrailsealError('INTERNAL', `event-reader: ${room.length} bytes of room for a body of ${n}`);
  return read(room, n, kind, limits, true);
}

function read(src: Uint8Array, n: number, kind: 'json' | 'ndjson', limits: ReadLimits, inPlace: boolean): PreparedEvents | undefined {
  const maxBytes = limits.maxBytes ?? DEFAULT_JSON_LIMITS.maxBytes;
  if (!(n <= maxBytes)) return undefined;
  const kept = work;
  // Canonical output is never longer than the input: every byte written is one read.
  if (inPlace) work = src;
  else {
    if (work.length < 2 * n) work = new Uint8Array(2 * n);
    work.set(src, 0);
  }
  // A plain Uint8Array: Buffer's own subarray is several times slower to call.
  b = work.subarray(0, n);
  bAt = 0;
  p = 0;
  outAt = n;
  o = 0;
  depth = 0;
  maxDepth = limits.maxDepth ?? DEFAULT_JSON_LIMITS.maxDepth;
  maxMembers = limits.maxMembers ?? DEFAULT_JSON_LIMITS.maxMembers;
  maxString = limits.maxStringLength ?? DEFAULT_JSON_LIMITS.maxStringLength;
  maxEvents = limits.maxBatchEvents;
  ids = [];
  // Room for an event per 512 bytes (a rich event is 1.2 KiB); it grows if need be.
  ends = new Uint32Array(EVENT_RUN_COUNT * Math.max(1, Math.min(maxEvents, 1 + (n >> 9))));
  events = 0;
  try {
    if (kind === 'json') readJsonBody();
    else readNdjsonBody();
    if (events === 0) return undefined;
    if (o > n) throw new TrailsealError('INTERNAL', 'event-reader: the output outgrew the input');
    let data: Uint8Array;
    if (inPlace) data = work.subarray(outAt, outAt + o);
    else {
      // A buffer of its own: the result may be handed to another thread.
      data = new Uint8Array(o);
      data.set(work.subarray(outAt, outAt + o));
    }
    return { ids, data, ends: ends.subarray(0, events * EVENT_RUN_COUNT) };
  } catch (e) {
    if (e === GIVE_UP) return undefined;
    throw e;
  } finally {
    b = new Uint8Array(0);
    // The workspace stays for the next read unless it grew for a large body.
    if (inPlace) work = kept;
    else if (work.length > WORKSPACE_KEPT) work = b;
    ids = [];
  }
}

function readJsonBody(): void {
  ws();
  if (b[p] === 0x5b) {
    p++;
    enter();
    ws();
    for (;;) {
      if (events >= maxMembers) giveUp();
      readEvent();
      if (endOfMember(0x5d)) break;
    }
    depth--;
  } else readEvent();
  ws();
  if (p !== b.length) giveUp();
}

function readNdjsonBody(): void {
  const body = b;
  const n = body.length;
  let at = 0;
  while (at < n) {
    let end = body.indexOf(0x0a, at);
    if (end === -1) end = n;
    let stop = end;
    if (stop > at && body[stop - 1] === 0x0d) stop--;
    if (stop > at) {
      // One line is one JSON text, read alone as the reference parses it: the
      // line is the whole input meanwhile (whitespace must not run past it).
      b = body.subarray(at, stop);
      bAt = at;
      p = 0;
      ws();
      readEvent();
      ws();
      if (p !== b.length) giveUp();
    }
    at = end + 1;
  }
  b = body;
  bAt = 0;
}

// --- packing -------------------------------------------------------------------

/** The same form from canonical parts (the reference path's result). */
export function preparedFromParts(parts: readonly EventParts[]): PreparedEvents {
  let chars = 0;
  for (const e of parts) for (const r of e.runs) chars += r.length;
  // A UTF-16 unit is at most 3 bytes of UTF-8.
  const data = new Uint8Array(3 * chars);
  const ends = new Uint32Array(parts.length * EVENT_RUN_COUNT);
  let at = 0;
  let k = 0;
  for (const e of parts) {
    if (e.runs.length !== EVENT_RUN_COUNT) throw new TrailsealError('INTERNAL', `event parts hold ${e.runs.length} runs, not ${EVENT_RUN_COUNT}`);
    for (const r of e.runs) {
      at += encoder.encodeInto(r, data.subarray(at)).written;
      ends[k++] = at;
    }
  }
  return { ids: parts.map((e) => e.id), data: data.subarray(0, at), ends };
}

/** Run r of event i, as UTF-8 bytes (a view). */
export function preparedRun(prepared: PreparedEvents, i: number, r: number): Uint8Array {
  const k = i * EVENT_RUN_COUNT + r;
  return prepared.data.subarray(k === 0 ? 0 : prepared.ends[k - 1]!, prepared.ends[k]!);
}

/** Event i as canonical parts (strings): for the rare paths that compare events, such as an id sent again. */
export function preparedEvent(prepared: PreparedEvents, i: number): EventParts {
  const runs: string[] = [];
  for (let r = 0; r < EVENT_RUN_COUNT; r++) runs.push(decoder.decode(preparedRun(prepared, i, r)));
  return { id: prepared.ids[i]!, runs };
}
