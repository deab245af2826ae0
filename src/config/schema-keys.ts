/**
 * The fields a config schema defines at a path, so that an unknown field's error can say which
 * known one was probably meant ("did you mean"). Reads the zod schema's own definition: the
 * suggestion can never drift from what the loader accepts.
 * @module
 */
import type { z } from 'zod';

interface Def {
  readonly type: string;
  readonly shape?: Readonly<Record<string, z.ZodType>>;
  readonly innerType?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly element?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly in?: z.ZodType;
  readonly out?: z.ZodType;
  readonly left?: z.ZodType;
  readonly right?: z.ZodType;
  readonly getter?: () => z.ZodType;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The schemas a value at `path` below `schema` may be checked against (several under a union). */
function schemasAt(schema: z.ZodType, path: readonly PropertyKey[], depth = 0): z.ZodType[] {
  if (depth > 64) return [];
  const def = defOf(schema);
  switch (def.type) {
    case 'default':
    case 'optional':
    case 'nullable':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return def.innerType === undefined ? [] : schemasAt(def.innerType, path, depth + 1);
    case 'pipe':
      return def.in === undefined ? [] : schemasAt(def.in, path, depth + 1);
    case 'lazy':
      return def.getter === undefined ? [] : schemasAt(def.getter(), path, depth + 1);
    case 'union':
      return (def.options ?? []).flatMap((o) => schemasAt(o, path, depth + 1));
    case 'intersection':
      return [def.left, def.right].flatMap((o) => (o === undefined ? [] : schemasAt(o, path, depth + 1)));
    default:
      break;
  }
  if (path.length === 0) return [schema];
  const [head, ...rest] = path;
  if (def.type === 'object') {
    const child = typeof head === 'string' ? def.shape?.[head] : undefined;
    return child === undefined ? [] : schemasAt(child, rest, depth + 1);
  }
  if (def.type === 'record') return def.valueType === undefined ? [] : schemasAt(def.valueType, rest, depth + 1);
  if (def.type === 'array') return def.element === undefined ? [] : schemasAt(def.element, rest, depth + 1);
  return [];
}

/**
 * Field names the object schema at `path` defines (empty when the path does not lead to one).
 * @example
 * ```ts
 * knownKeysAt(configSchema, ['loggers', 'usage']); // ['type', 'description']
 * ```
 */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  for (const s of schemasAt(schema, path)) {
    const def = defOf(s);
    if (def.type === 'object') for (const k of Object.keys(def.shape ?? {})) keys.add(k);
  }
  return [...keys];
}
