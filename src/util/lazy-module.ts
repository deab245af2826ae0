/**
 * A module loaded on first use, synchronously (`require` of an ES module, Node ≥ 22.12), for the
 * libraries only some configurations need: a gateway that never imports an OpenAPI spec, serves
 * MCP, validates content or keeps its ledger in PostgreSQL does not hold their code in memory
 * (about 10–30 MB of RSS each; docs/performance.md, issue 11). Load-time callers (config loading,
 * policy compilation, runtime building) trigger the load, never the request path.
 * @module
 */
import { createRequire } from 'node:module';

/**
 * @param base `import.meta.url` of the caller: `specifier` resolves from there.
 * @example
 * ```ts
 * import type * as Scalar from '@scalar/openapi-parser';
 * const scalar = lazyModule<typeof Scalar>(import.meta.url, '@scalar/openapi-parser');
 * scalar().upgrade(text);
 * ```
 */
export function lazyModule<T>(base: string, specifier: string): () => T {
  const load = createRequire(base);
  let mod: T | undefined;
  return () => (mod ??= load(specifier) as T);
}
