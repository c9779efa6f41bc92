// A small declarative schema for the event record. The validator walks the
// schema once and reports EVERY bad field path (not just the first), each with
// a stable code; docs/spec/event-record.md documents the same table.
import type { ErrorCode, FieldError } from './errors.js';
import { isWellFormedString } from './jcs.js';

export type Schema =
  | { readonly kind: 'string'; readonly max: number; readonly min?: number; readonly check?: (s: string) => boolean; readonly format?: string }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'integer'; readonly min: number; readonly max: number }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'array'; readonly items: Schema; readonly max: number }
  | { readonly kind: 'object'; readonly fields: Readonly<Record<string, Field>> }
  | { readonly kind: 'free'; readonly check: (v: unknown, path: string, ctx: Validation) => void };

/**
 * What a validation pass accumulates: every problem, and an upper bound on the
 * UTF-8 size of the value's canonical JSON, so size limits cost no second pass
 * in the common case (see record.ts).
 */
export interface Validation {
  readonly errors: FieldError[];
  sizeBound: number;
}

export interface Field {
  readonly schema: Schema;
  readonly required?: boolean;
}

export const str = (max: number, check?: (s: string) => boolean, format?: string, min = 1): Schema => ({
  kind: 'string',
  max,
  min,
  ...(check ? { check } : {}),
  ...(format ? { format } : {}),
});
export const oneOf = (...values: string[]): Schema => ({ kind: 'enum', values });
export const int = (min: number, max: number): Schema => ({ kind: 'integer', min, max });
export const bool: Schema = { kind: 'boolean' };
export const arrayOf = (items: Schema, max: number): Schema => ({ kind: 'array', items, max });
export const obj = (fields: Record<string, Field>): Schema => ({ kind: 'object', fields });
export const req = (schema: Schema): Field => ({ schema, required: true });
export const opt = (schema: Schema): Field => ({ schema });

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function push(ctx: Validation, path: string, code: ErrorCode, message: string): void {
  ctx.errors.push({ path, code, message });
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/**
 * Where a value sits, built only when an error needs its path: validating a
 * valid event then allocates no path strings at all.
 */
interface Loc {
  readonly parent: Loc | undefined;
  readonly key: string | number;
}

function pathOf(parent: Loc | undefined, key: string | number): string {
  const tail = typeof key === 'number' ? `[${key}]` : key;
  if (parent === undefined) return tail;
  const head = pathOf(parent.parent, parent.key);
  if (head === '') return tail;
  return typeof key === 'number' ? head + tail : `${head}.${tail}`;
}

/** A schema compiled to a closure: validates `value`, found at `parent`.`key`. */
type Check = (value: unknown, parent: Loc | undefined, key: string | number, out: Validation) => void;
type MembersCheck = (value: Record<string, unknown>, at: Loc, out: Validation, isReserved?: (name: string) => boolean) => void;

// Schemas are compiled once, on first use, into closures: no per-value
// dispatch on the schema kind and no per-value option lookups. Validation
// runs on every ingested event and every verified record.
const compiled = new WeakMap<object, Check>();
const compiledMembers = new WeakMap<object, MembersCheck>();

function checkFor(schema: Schema): Check {
  let c = compiled.get(schema);
  if (c === undefined) {
    c = compile(schema);
    compiled.set(schema, c);
  }
  return c;
}

function membersFor(fields: Readonly<Record<string, Field>>): MembersCheck {
  let c = compiledMembers.get(fields);
  if (c === undefined) {
    c = compileMembers(fields);
    compiledMembers.set(fields, c);
  }
  return c;
}

function compile(schema: Schema): Check {
  switch (schema.kind) {
    case 'string': {
      const { max, check } = schema;
      const min = schema.min ?? 1;
      const format = schema.format ?? 'value';
      return (value, parent, key, out) => {
        if (typeof value !== 'string') return fail(out, parent, key, 'FIELD_TYPE', (p) => `${p} must be a string, got ${typeName(value)}`);
        const n = value.length;
        if (n > max) return fail(out, parent, key, 'FIELD_TOO_LONG', (p) => `${p} is ${n} characters; the limit is ${max}`);
        if (n < min) return fail(out, parent, key, 'FIELD_FORMAT', (p) => `${p} must not be empty`);
        if (!isWellFormedString(value)) return fail(out, parent, key, 'FIELD_FORMAT', (p) => `${p} contains a lone UTF-16 surrogate`);
        if (check !== undefined && !check(value)) {
          return fail(out, parent, key, 'FIELD_FORMAT', (p) => `${p} is not a valid ${format}: ${JSON.stringify(value.slice(0, 80))}`);
        }
        // A UTF-16 unit is at most 6 bytes in canonical JSON (\u001f), plus the quotes.
        out.sizeBound += 6 * n + 2;
      };
    }
    case 'enum': {
      const values = new Set(schema.values);
      const list = schema.values.join(', ');
      return (value, parent, key, out) => {
        if (typeof value !== 'string') return fail(out, parent, key, 'FIELD_TYPE', (p) => `${p} must be a string, got ${typeName(value)}`);
        if (!values.has(value)) return fail(out, parent, key, 'FIELD_ENUM', (p) => `${p} must be one of ${list}; got ${JSON.stringify(value.slice(0, 80))}`);
        out.sizeBound += value.length + 2;
      };
    }
    case 'integer': {
      const { min, max } = schema;
      return (value, parent, key, out) => {
        if (typeof value !== 'number') return fail(out, parent, key, 'FIELD_TYPE', (p) => `${p} must be an integer, got ${typeName(value)}`);
        if (!Number.isSafeInteger(value) || value < min || value > max) {
          return fail(out, parent, key, 'FIELD_RANGE', (p) => `${p} must be an integer in ${min}..${max}, got ${value}`);
        }
        out.sizeBound += 16;
      };
    }
    case 'boolean':
      return (value, parent, key, out) => {
        if (typeof value !== 'boolean') return fail(out, parent, key, 'FIELD_TYPE', (p) => `${p} must be true or false, got ${typeName(value)}`);
        out.sizeBound += 5;
      };
    case 'array': {
      const { items, max } = schema;
      let itemCheck: Check | undefined;
      return (value, parent, key, out) => {
        if (!Array.isArray(value)) return fail(out, parent, key, 'FIELD_TYPE', (p) => `${p} must be an array, got ${typeName(value)}`);
        if (value.length > max) return fail(out, parent, key, 'FIELD_TOO_LONG', (p) => `${p} has ${value.length} items; the limit is ${max}`);
        out.sizeBound += 2 + value.length;
        // Resolved on first use: schemas may be built in any order.
        const item = (itemCheck ??= checkFor(items));
        const here: Loc = { parent, key };
        for (let i = 0; i < value.length; i++) item(value[i], here, i, out);
      };
    }
    case 'object': {
      const { fields } = schema;
      return (value, parent, key, out) => {
        if (!isPlainObject(value)) return fail(out, parent, key, 'FIELD_TYPE', (p) => `${p} must be an object, got ${typeName(value)}`);
        membersFor(fields)(value, { parent, key }, out);
      };
    }
    case 'free': {
      const { check } = schema;
      return (value, parent, key, out) => check(value, pathOf(parent, key), out);
    }
  }
}

function compileMembers(fields: Readonly<Record<string, Field>>): MembersCheck {
  const names = Object.keys(fields);
  const known = new Set(names);
  const members = names.map((name) => ({ name, required: fields[name]!.required === true, schema: fields[name]!.schema, check: undefined as Check | undefined }));
  // Schema member names are short ASCII: quotes, colon and comma, braces.
  const namesBound = 2 + names.reduce((n, name) => n + name.length + 4, 0);
  return (value, at, out, isReserved) => {
    out.sizeBound += namesBound;
    for (const name of Object.keys(value)) {
      if (known.has(name)) continue;
      if (isReserved?.(name)) fail(out, at, name, 'FIELD_RESERVED', (p) => `${p} is set by the log and may not be sent by a producer`);
      else fail(out, at, name, 'FIELD_UNKNOWN', (p) => `${p} is not a field of this object`);
    }
    for (const m of members) {
      const v = value[m.name];
      if (v === undefined || v === null) {
        if (m.required) fail(out, at, m.name, 'FIELD_REQUIRED', (p) => `${p} is required`);
        else if (v === null) fail(out, at, m.name, 'FIELD_TYPE', (p) => `${p} must be omitted rather than null`);
        continue;
      }
      // Resolved on first use (schemas may refer to ones compiled later).
      (m.check ??= checkFor(m.schema))(v, at, m.name, out);
    }
  };
}

/** Validates `value` (at `parent`.`key`) against `schema`, appending one FieldError per problem. */
export function validate(schema: Schema, value: unknown, parent: Loc | undefined, key: string | number, out: Validation): void {
  checkFor(schema)(value, parent, key, out);
}

function fail(out: Validation, parent: Loc | undefined, key: string | number, code: ErrorCode, message: (path: string) => string): void {
  const path = pathOf(parent, key);
  push(out, path, code, message(path));
}

const ROOT: Loc = { parent: undefined, key: '' };

/** Validates the members of the object at `at` (the document root by default). */
export function validateMembers(
  fields: Readonly<Record<string, Field>>,
  value: Record<string, unknown>,
  at: Loc = ROOT,
  out: Validation,
  isReserved?: (name: string) => boolean,
): void {
  membersFor(fields)(value, at, out, isReserved);
}
