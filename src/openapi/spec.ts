/**
 * An OpenAPI description read into the operations an imported API serves. Swagger 2.0, OpenAPI
 * 3.0 and 3.1, JSON or YAML: `@scalar/openapi-parser` upgrades every one to 3.1 (so one code path
 * reads them), and this module resolves the `$ref`s it needs itself, inside the document only.
 *
 * Why not the library's `dereference`: it resolves recursive schemas into object cycles, which
 * cannot be serialised as a tool's JSON Schema. Here a schema keeps its `#/components/schemas/X`
 * references, rewritten to `#/$defs/X` (tool-schema.ts), so cycles stay references and every
 * schema stays finite. External references (other files, URLs) are refused: a spec must be one
 * self-contained document, so loading it never reads a file or the network it did not name.
 * @module
 */
import type * as Scalar from '@scalar/openapi-parser';
import { lazyModule } from '../util/lazy-module.ts';

/** Loaded with the first spec: a gateway without `openapi:` APIs never holds the parser. */
const scalar = lazyModule<typeof Scalar>(import.meta.url, '@scalar/openapi-parser');

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Bounds on what a spec may hold (a spec is operator input, but may come from anywhere). */
export const SPEC_LIMITS = { maxBytes: 10 * 1024 * 1024, maxOperations: 2_000, maxRefDepth: 32 } as const;

export type ParamLocation = 'path' | 'query' | 'header';

export interface SpecParameter {
  readonly name: string;
  readonly in: ParamLocation;
  readonly required: boolean;
  readonly description: string | undefined;
  /** JSON Schema (may hold `#/components/schemas/..` references). */
  readonly schema: Record<string, unknown>;
  /** Query arrays: `tags=a&tags=b` (true, the OpenAPI default) or `tags=a,b`. */
  readonly explode: boolean;
}

export interface SpecOperation {
  readonly id: string;
  /** Upper case. */
  readonly method: string;
  /** `/pet/{petId}`, relative to the API's path. */
  readonly template: string;
  readonly summary: string | undefined;
  readonly description: string | undefined;
  readonly parameters: readonly SpecParameter[];
  /** The JSON request body, when the operation takes one. */
  readonly body: { readonly required: boolean; readonly contentType: string; readonly schema: Record<string, unknown> } | null;
  /** Schema of the first 2xx JSON response, when there is one. */
  readonly output: Record<string, unknown> | null;
}

export interface ApiSpec {
  readonly title: string;
  readonly version: string;
  /** First `servers[].url`, when the spec has one. */
  readonly serverUrl: string | undefined;
  readonly operations: readonly SpecOperation[];
  /** `components.schemas`, the targets of the references schemas keep. */
  readonly schemas: Readonly<Record<string, unknown>>;
}

export class SpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpecError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** @throws SpecError with what is wrong, naming the operation or path. */
export function parseSpec(text: string): ApiSpec {
  if (Buffer.byteLength(text) > SPEC_LIMITS.maxBytes) throw new SpecError(`the specification is larger than ${SPEC_LIMITS.maxBytes} bytes`);
  let doc: unknown;
  try {
    doc = scalar().upgrade(text).specification;
  } catch (err) {
    throw new SpecError(`cannot read the specification: ${(err as Error).message}`);
  }
  if (!isObj(doc) || typeof doc['openapi'] !== 'string' || !isObj(doc['paths'])) {
    throw new SpecError('not an OpenAPI 3.x or Swagger 2.0 document (no "openapi"/"swagger" version or no "paths")');
  }
  refuseExternalRefs(doc, '#', 0);
  const info = isObj(doc['info']) ? doc['info'] : {};
  const servers = Array.isArray(doc['servers']) ? doc['servers'] : [];
  const components = isObj(doc['components']) ? doc['components'] : {};
  const resolver = new Resolver(doc);
  const operations: SpecOperation[] = [];
  const seen = new Set<string>();
  for (const [template, rawItem] of Object.entries(doc['paths'])) {
    if (!template.startsWith('/')) throw new SpecError(`path "${template}" must start with "/"`);
    const item = resolver.deref(rawItem, `paths.${template}`);
    const shared = Array.isArray(item['parameters']) ? item['parameters'] : [];
    for (const method of HTTP_METHODS) {
      const rawOp = item[method];
      if (rawOp === undefined) continue;
      const op = resolver.deref(rawOp, `${method.toUpperCase()} ${template}`);
      const where = `${method.toUpperCase()} ${template}`;
      const id = str(op['operationId']) ?? derivedId(method, template);
      if (seen.has(id)) throw new SpecError(`operationId "${id}" is used twice (${where})`);
      seen.add(id);
      if (operations.length >= SPEC_LIMITS.maxOperations) throw new SpecError(`more than ${SPEC_LIMITS.maxOperations} operations`);
      operations.push({
        id,
        method: method.toUpperCase(),
        template,
        summary: str(op['summary']),
        description: str(op['description']),
        parameters: parameters(resolver, shared, Array.isArray(op['parameters']) ? op['parameters'] : [], template, where),
        body: requestBody(resolver, op['requestBody'], where),
        output: responseSchema(resolver, op['responses'], where),
      });
    }
  }
  return {
    title: str(info['title']) ?? 'API',
    version: str(info['version']) ?? '',
    serverUrl: isObj(servers[0]) ? str(servers[0]['url']) : undefined,
    operations,
    schemas: isObj(components['schemas']) ? components['schemas'] : {},
  };
}

/** APIM's name for an operation without an operationId: method and path, e.g. `get-pet-petid`. */
function derivedId(method: string, template: string): string {
  const words = template.toLowerCase().replace(/[{}]/g, '').split(/[^a-z0-9]+/).filter((w) => w !== '');
  return [method, ...words].join('-');
}

function refuseExternalRefs(node: unknown, where: string, depth: number): void {
  if (depth > 200) throw new SpecError(`the document nests deeper than 200 levels (at ${where})`);
  if (Array.isArray(node)) {
    node.forEach((v, i) => refuseExternalRefs(v, `${where}/${i}`, depth + 1));
    return;
  }
  if (!isObj(node)) return;
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string' && !v.startsWith('#')) {
      throw new SpecError(`external reference "${v}" at ${where} is not supported: bundle the specification into one document`);
    }
    // Examples are data, not schema: a "$ref" inside one is just a value.
    if (k === 'example' || k === 'examples' || k.startsWith('x-')) continue;
    refuseExternalRefs(v, `${where}/${k}`, depth + 1);
  }
}

/** Follows local `$ref`s (`#/components/...`) to the object they name, bounded. */
class Resolver {
  readonly #doc: Obj;

  constructor(doc: Obj) {
    this.#doc = doc;
  }

  deref(value: unknown, where: string): Obj {
    let current = value;
    for (let i = 0; i < SPEC_LIMITS.maxRefDepth; i++) {
      if (!isObj(current)) throw new SpecError(`${where}: expected an object`);
      const ref = current['$ref'];
      if (typeof ref !== 'string') return current;
      current = this.pointer(ref, where);
    }
    throw new SpecError(`${where}: more than ${SPEC_LIMITS.maxRefDepth} chained references (a $ref cycle?)`);
  }

  pointer(ref: string, where: string): unknown {
    let node: unknown = this.#doc;
    for (const raw of ref.slice(2).split('/')) {
      if (ref === '#') break;
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (!isObj(node) && !Array.isArray(node)) throw new SpecError(`${where}: reference "${ref}" does not resolve`);
      node = (node as Obj)[key];
      if (node === undefined) throw new SpecError(`${where}: reference "${ref}" does not resolve`);
    }
    return node;
  }
}

function parameters(resolver: Resolver, shared: unknown[], own: unknown[], template: string, where: string): SpecParameter[] {
  const byKey = new Map<string, SpecParameter>();
  // Operation-level parameters override path-level ones of the same name and location.
  for (const raw of [...shared, ...own]) {
    const p = resolver.deref(raw, where);
    const name = str(p['name']);
    const location = p['in'];
    if (name === undefined) throw new SpecError(`${where}: a parameter has no name`);
    if (location === 'cookie') continue;
    if (location !== 'path' && location !== 'query' && location !== 'header') throw new SpecError(`${where}: parameter "${name}" has an unknown location "${String(location)}"`);
    const schema = isObj(p['schema']) ? p['schema'] : jsonContentSchema(p['content']) ?? {};
    byKey.set(`${location}:${name}`, {
      name,
      in: location,
      required: location === 'path' || p['required'] === true,
      description: str(p['description']),
      schema,
      explode: p['explode'] !== false,
    });
  }
  for (const m of template.matchAll(/\{([^}/]+)\}/g)) {
    const name = m[1] as string;
    if (!byKey.has(`path:${name}`)) byKey.set(`path:${name}`, { name, in: 'path', required: true, description: undefined, schema: { type: 'string' }, explode: false });
  }
  return [...byKey.values()];
}

function jsonContentSchema(content: unknown): Obj | undefined {
  if (!isObj(content)) return undefined;
  for (const [type, media] of Object.entries(content)) {
    if (isJsonType(type) && isObj(media)) return isObj(media['schema']) ? media['schema'] : {};
  }
  return undefined;
}

const isJsonType = (type: string): boolean => /^application\/([a-z0-9.+-]*\+)?json\b/i.test(type) || type === '*/*';

function requestBody(resolver: Resolver, raw: unknown, where: string): SpecOperation['body'] {
  if (raw === undefined) return null;
  const body = resolver.deref(raw, where);
  const content = isObj(body['content']) ? body['content'] : {};
  const type = Object.keys(content).find(isJsonType);
  if (type === undefined) return null;
  const media = content[type];
  return { required: body['required'] === true, contentType: type === '*/*' ? 'application/json' : type, schema: isObj(media) && isObj(media['schema']) ? media['schema'] : {} };
}

function responseSchema(resolver: Resolver, raw: unknown, where: string): Obj | null {
  if (!isObj(raw)) return null;
  const code = Object.keys(raw).sort().find((c) => /^2(\d\d|XX)$/i.test(c));
  if (code === undefined) return null;
  const response = resolver.deref(raw[code], where);
  return jsonContentSchema(response['content']) ?? null;
}
