/**
 * An imported operation as an MCP tool: its name, description, `inputSchema` (one property per
 * path, query and header parameter, plus `body` for the JSON request body) and `outputSchema`
 * (the 2xx JSON response, when it is an object).
 *
 * Schemas keep the spec's `#/components/schemas/X` references as `#/$defs/X`, with only the
 * definitions they reach copied into `$defs`, so recursive schemas stay finite and valid JSON
 * Schema. OpenAPI-only keywords that are not JSON Schema (`discriminator`, `xml`,
 * `externalDocs`, `example`, `x-*`) are dropped: strict validators reject them.
 * @module
 */
import type { ApiSpec, SpecOperation, SpecParameter } from '../openapi/spec.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** MCP tool names: 1-128 of `A-Za-z0-9_-.` (the spec's recommendation, which clients enforce). */
export function toolName(operationId: string): string {
  const name = operationId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 128);
  return name === '' ? '_' : name;
}

export interface ToolArgument {
  /** The property name in `arguments`. */
  readonly key: string;
  readonly param: SpecParameter;
}

export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Obj & { type: 'object' };
  readonly outputSchema: (Obj & { type: 'object' }) | undefined;
  readonly operation: SpecOperation;
  /** How each argument maps back to the request. */
  readonly args: readonly ToolArgument[];
}

const DROPPED = new Set(['discriminator', 'xml', 'externalDocs', 'example']);

export function buildTool(spec: ApiSpec, op: SpecOperation): ToolDefinition {
  const defs = new Map<string, unknown>();
  const convert = (schema: unknown): unknown => rewrite(schema, spec, defs, 0);
  const properties: Obj = {};
  const required: string[] = [];
  const args: ToolArgument[] = [];
  for (const param of op.parameters) {
    // Two parameters of one name (a path `id` and a query `id`) get their location as a prefix.
    const key = properties[param.name] === undefined && param.name !== 'body' ? param.name : `${param.in}_${param.name}`;
    const schema = convert(param.schema) as Obj;
    properties[key] = param.description === undefined || schema['description'] !== undefined ? schema : { ...schema, description: param.description };
    if (param.required) required.push(key);
    args.push({ key, param });
  }
  if (op.body !== null) {
    properties['body'] = { ...(convert(op.body.schema) as Obj), ...(op.body.schema['description'] === undefined && { description: `Request body (${op.body.contentType})` }) };
    if (op.body.required) required.push('body');
  }
  const inputSchema: Obj & { type: 'object' } = { type: 'object', properties, ...(required.length > 0 && { required }) };
  if (defs.size > 0) inputSchema['$defs'] = Object.fromEntries(defs);

  let outputSchema: (Obj & { type: 'object' }) | undefined;
  if (op.output !== null) {
    const outDefs = new Map<string, unknown>();
    const out = rewrite(op.output, spec, outDefs, 0);
    const root = resolveRoot(out, outDefs);
    // MCP requires an object at the root of an output schema; arrays and scalars go as text only.
    if (isObj(root) && root['type'] === 'object') {
      outputSchema = { ...(root), type: 'object' };
      if (outDefs.size > 0) outputSchema['$defs'] = Object.fromEntries(outDefs);
    }
  }
  const description = [op.summary, op.description].filter((s) => s !== undefined).join('\n\n') || `${op.method} ${op.template}`;
  return { name: toolName(op.id), description, inputSchema, outputSchema, operation: op, args };
}

/** The schema a root `$ref` names (an output schema must be an object at its root, not a reference). */
function resolveRoot(schema: unknown, defs: Map<string, unknown>): unknown {
  if (!isObj(schema) || typeof schema['$ref'] !== 'string') return schema;
  const name = schema['$ref'].slice('#/$defs/'.length);
  return defs.get(name) ?? schema;
}

const REF_PREFIX = '#/components/schemas/';
const MAX_DEPTH = 64;

function rewrite(node: unknown, spec: ApiSpec, defs: Map<string, unknown>, depth: number): unknown {
  if (depth > MAX_DEPTH) return {};
  if (Array.isArray(node)) return node.map((v) => rewrite(v, spec, defs, depth + 1));
  if (!isObj(node)) return node;
  const out: Obj = {};
  for (const [k, v] of Object.entries(node)) {
    if (DROPPED.has(k) || k.startsWith('x-')) continue;
    if (k === '$ref' && typeof v === 'string') {
      out[k] = refTo(v, spec, defs);
      continue;
    }
    // Property names, enum values, defaults and examples are data: copied, not walked as schema.
    if (k === 'properties' || k === 'patternProperties' || k === '$defs' || k === 'definitions') {
      out[k] = isObj(v) ? Object.fromEntries(Object.entries(v).map(([name, s]) => [name, rewrite(s, spec, defs, depth + 1)])) : v;
    } else if (k === 'enum' || k === 'const' || k === 'default' || k === 'examples' || k === 'required') {
      out[k] = v;
    } else {
      out[k] = rewrite(v, spec, defs, depth + 1);
    }
  }
  return out;
}

/** `#/components/schemas/Pet` → `#/$defs/Pet`, copying Pet (and what it reaches) into `defs` once. */
function refTo(ref: string, spec: ApiSpec, defs: Map<string, unknown>): string {
  if (!ref.startsWith(REF_PREFIX)) return ref;
  // `#/components/schemas/Pet/properties/tags` points inside Pet: Pet is copied, the rest kept.
  const [segment = '', ...rest] = ref.slice(REF_PREFIX.length).split('/');
  const name = decodeURIComponent(segment).replace(/~1/g, '/').replace(/~0/g, '~');
  if (!defs.has(name)) {
    defs.set(name, {}); // placeholder first: a cycle back to this name stops here
    defs.set(name, rewrite(spec.schemas[name] ?? {}, spec, defs, 0));
  }
  return ['#/$defs', segment, ...rest].join('/');
}
