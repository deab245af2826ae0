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
  const resolved = siblingModule(base, specifier);
  let mod: T | undefined;
  return () => (mod ??= load(resolved) as T);
}

/**
 * A relative `.ts` specifier as the caller's own build names it: `tollgate start` runs the
 * JavaScript that tsc emits (bin/build.js), where `./x.ts` is `./x.js`. tsc rewrites the
 * specifiers of `import` statements, not strings handed to `require` or `new URL`.
 */
export function siblingModule(base: string, specifier: string): string {
  return base.endsWith('.js') && specifier.startsWith('.') && specifier.endsWith('.ts') ? `${specifier.slice(0, -3)}.js` : specifier;
}
