/**
 * JSON schemas for `validate-content schema-id="..."`, from the config's `schemas` section
 * (`schemas.<id>: { file: path.json }` relative to the config file, or `{ inline: <schema> }`), and
 * their validators. ajv compiles each (schema, schema-ref, allow-additional-properties) once, at
 * load; a schema that does not compile is a config error. ajv's `pattern` keyword runs on RE2
 * (re2js) instead of JavaScript's backtracking RegExp, so a schema's pattern cannot be made to
 * hang the gateway by a request body.
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type * as AjvModule from 'ajv';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { lazyModule } from '../../util/lazy-module.ts';
import { RE2JS } from 're2js';

/** APIM's limit on a schema used by the validation policies. */
export const MAX_SCHEMA_BYTES = 4 * 1024 * 1024;

export type SchemaSource = { readonly file: string } | { readonly inline: unknown };

/** Reads every configured schema; throws an Error naming the schema for a file or JSON problem. */
export function loadContentSchemas(sources: Readonly<Record<string, SchemaSource>>, configFile: string | undefined): ReadonlyMap<string, object> {
  const out = new Map<string, object>();
  const base = configFile === undefined ? process.cwd() : dirname(configFile);
  for (const [id, src] of Object.entries(sources)) {
    let schema: unknown;
    if ('file' in src) {
      const path = resolve(base, src.file);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        throw new Error(`schemas.${id}: cannot read ${src.file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      if (Buffer.byteLength(text) > MAX_SCHEMA_BYTES) throw new Error(`schemas.${id}: ${src.file} is larger than ${MAX_SCHEMA_BYTES} bytes`);
      try {
        schema = JSON.parse(text);
      } catch (err) {
        throw new Error(`schemas.${id}: ${src.file} is not JSON (${(err as Error).message})`);
      }
    } else if (typeof src.inline === 'string') {
      try {
        schema = JSON.parse(src.inline);
      } catch (err) {
        throw new Error(`schemas.${id}: inline is not JSON (${(err as Error).message})`);
      }
    } else schema = src.inline;
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new Error(`schemas.${id}: a JSON schema must be an object`);
    out.set(id, schema);
    // Compiled now, so a broken schema is reported when the config loads, not when first used.
    try {
      validatorFor(schema, id, undefined, undefined);
    } catch (err) {
      throw new Error(`schemas.${id}: ${(err as Error).message}`);
    }
  }
  return out;
}

/** ajv's RegExp engine, on RE2: linear-time `pattern` matching. */
const re2Engine = Object.assign(
  (pattern: string): { test: (s: string) => boolean } => {
    const re = RE2JS.compile(pattern);
    return { test: (s: string) => re.test(s) };
  },
  { code: 'RE2JS' },
);

/** ajv loads with the first `validate-content` schema: a config without one never holds it. */
const ajvModule = lazyModule<typeof AjvModule>(import.meta.url, 'ajv');
let ajvInstance: Ajv | undefined;
const ajv = (): Ajv => (ajvInstance ??= new (ajvModule().Ajv)({ strict: false, allErrors: true, validateFormats: false, code: { regExp: re2Engine } }));

/** A JSON pointer (`#/components/schemas/address`) inside `schema`. */
function resolveRef(schema: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) throw new Error(`schema-ref must be a local reference (#/...), got "${ref}"`);
  let node: unknown = schema;
  for (const raw of ref.slice(1).split('/').filter((p) => p !== '')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !(key in node)) throw new Error(`schema-ref "${ref}" does not exist in the schema`);
    node = (node as Record<string, unknown>)[key];
  }
  if (typeof node !== 'object' || node === null) throw new Error(`schema-ref "${ref}" is not a schema object`);
  return node;
}

/**
 * `allow-additional-properties` overrides `additionalProperties` of every object schema, as APIM
 * does at run time: true allows them even where the schema forbids them, false forbids them.
 */
function overrideAdditional(node: unknown, allow: boolean, seen = new Set<unknown>()): unknown {
  if (typeof node !== 'object' || node === null || seen.has(node)) return node;
  seen.add(node);
  if (Array.isArray(node)) return node.map((n) => overrideAdditional(n, allow, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === 'properties' || k === '$defs' || k === 'definitions' || k === 'patternProperties' ? Object.fromEntries(Object.entries(v as object).map(([pk, pv]) => [pk, overrideAdditional(pv, allow, seen)])) : overrideAdditional(v, allow, seen);
  const isObjectSchema = out.type === 'object' || 'properties' in out;
  if (isObjectSchema) out.additionalProperties = allow;
  return out;
}

const compiled = new WeakMap<object, Map<string, ValidateFunction>>();

/** Containers a `schema-ref` may point into, kept beside the `$ref` (validation keywords are not). */
const CONTAINERS = new Set(['$schema', '$defs', 'definitions', 'components']);

/** The validator for `schema` at `ref`, with the additional-properties override; compiled once per variant. */
export function validatorFor(schema: object, id: string, ref: string | undefined, allowAdditional: boolean | undefined): ValidateFunction {
  let variants = compiled.get(schema);
  if (variants === undefined) {
    variants = new Map();
    compiled.set(schema, variants);
  }
  const key = `${ref ?? ''}\u0000${String(allowAdditional)}`;
  const hit = variants.get(key);
  if (hit !== undefined) return hit;
  let root: unknown = stripId(schema);
  if (ref !== undefined) {
    resolveRef(schema, ref);
    // The whole document stays reachable (its own $refs resolve), but only the referenced schema validates.
    const first = decodeURIComponent(ref.slice(1).split('/').find((p) => p !== '') ?? '');
    root = { ...Object.fromEntries(Object.entries(schema).filter(([k]) => CONTAINERS.has(k) || k === first)), $ref: ref };
  }
  if (allowAdditional !== undefined) root = overrideAdditional(root, allowAdditional);
  let fn: ValidateFunction;
  try {
    fn = ajv().compile(root as object);
  } catch (err) {
    throw new Error(`schema "${id}" does not compile: ${(err as Error).message}`);
  }
  variants.set(key, fn);
  return fn;
}

/** ajv refuses a second schema with the same `$id`; each compiled variant is its own copy. */
function stripId(s: object): object {
  if (!('$id' in s)) return s;
  const { $id: _id, ...rest } = s as Record<string, unknown>;
  return rest;
}

/** ajv's errors in the shape APIM's details use: "{message} Path: {path}" (at most `max`). */
export function describeErrors(errors: readonly ErrorObject[] | null | undefined, max = 10): string[] {
  return (errors ?? []).slice(0, max).map((e) => `${e.instancePath === '' ? '' : `${e.instancePath}: `}${e.message ?? 'invalid'}${e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : ''}`);
}
