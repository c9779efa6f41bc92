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

/** Validates `value` (at `parent`.`key`) against `schema`, appending one FieldError per problem. */
export function validate(schema: Schema, value: unknown, parent: Loc | undefined, key: string | number, out: Validation): void {
  switch (schema.kind) {
    case 'string': {
      if (typeof value !== 'string') return fail(out, parent, key, 'FIELD_TYPE', (p) => `${p} must be a string, got ${typeName(value)}`);
      if (value.length > schema.max) return fail(out, parent, key, 'FIELD_TOO_LONG', (p) => `${p} is ${value.length} characters; the limit is ${schema.max}`);
      if (value.length < (schema.min ?? 1)) return fail(out, parent, key, 'FIELD_FORMAT', (p) => `${p} must not be empty`);
      if (!isWellFormedString(value)) return fail(out, parent, key, 'FIELD_FORMAT', (p) => `${p} contains a lone UTF-16 surrogate`);
      if (schema.check && !schema.check(value)) {
        return fail(out, parent, key, 'FIELD_FORMAT', (p) => `${p} is not a valid ${schema.format ?? 'value'}: ${JSON.stringify(value.slice(0, 80))}`);
      }
      // A UTF-16 unit is at most 6 bytes in canonical JSON (\u001f), plus the quotes.
      out.sizeBound += 6 * value.length + 2;
      return;
    }
    case 'enum':
      if (typeof value !== 'string') return fail(out, parent, key, 'FIELD_TYPE', (p) => `${p} must be a string, got ${typeName(value)}`);
      if (!schema.values.includes(value)) {
        return fail(out, parent, key, 'FIELD_ENUM', (p) => `${p} must be one of ${schema.values.join(', ')}; got ${JSON.stringify(value.slice(0, 80))}`);
      }
      out.sizeBound += value.length + 2;
      return;
    case 'integer':
      if (typeof value !== 'number') return fail(out, parent, key, 'FIELD_TYPE', (p) => `${p} must be an integer, got ${typeName(value)}`);
      if (!Number.isSafeInteger(value) || value < schema.min || value > schema.max) {
        return fail(out, parent, key, 'FIELD_RANGE', (p) => `${p} must be an integer in ${schema.min}..${schema.max}, got ${value}`);
      }
      out.sizeBound += 16;
      return;
    case 'boolean':
      if (typeof value !== 'boolean') return fail(out, parent, key, 'FIELD_TYPE', (p) => `${p} must be true or false, got ${typeName(value)}`);
      out.sizeBound += 5;
      return;
    case 'array': {
      if (!Array.isArray(value)) return fail(out, parent, key, 'FIELD_TYPE', (p) => `${p} must be an array, got ${typeName(value)}`);
      if (value.length > schema.max) return fail(out, parent, key, 'FIELD_TOO_LONG', (p) => `${p} has ${value.length} items; the limit is ${schema.max}`);
      out.sizeBound += 2 + value.length;
      const here: Loc = { parent, key };
      for (let i = 0; i < value.length; i++) validate(schema.items, value[i], here, i, out);
      return;
    }
    case 'object': {
      if (!isPlainObject(value)) return fail(out, parent, key, 'FIELD_TYPE', (p) => `${p} must be an object, got ${typeName(value)}`);
      validateMembers(schema.fields, value, { parent, key }, out);
      return;
    }
    case 'free':
      schema.check(value, pathOf(parent, key), out);
      return;
  }
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
  out.sizeBound += 2;
  for (const name of Object.keys(value)) {
    if (Object.prototype.hasOwnProperty.call(fields, name)) continue;
    if (isReserved?.(name)) fail(out, at, name, 'FIELD_RESERVED', (p) => `${p} is set by the log and may not be sent by a producer`);
    else fail(out, at, name, 'FIELD_UNKNOWN', (p) => `${p} is not a field of this object`);
  }
  for (const name in fields) {
    const f = fields[name]!;
    const v = value[name];
    // Schema member names are short ASCII: quotes, colon and comma.
    out.sizeBound += name.length + 4;
    if (v === undefined || v === null) {
      if (f.required) fail(out, at, name, 'FIELD_REQUIRED', (p) => `${p} is required`);
      else if (v === null) fail(out, at, name, 'FIELD_TYPE', (p) => `${p} must be omitted rather than null`);
      continue;
    }
    validate(f.schema, v, at, name, out);
  }
}
