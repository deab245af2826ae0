/**
 * Matches a request path to an API by mount path, longest first (so `openai` wins over the root
 * API `""` for `/openai/...`).
 * @module
 */
export interface Mounted {
  /** `/openai`, or "" for the root. */
  readonly prefix: string;
}

export class Router<T extends Mounted> {
  readonly #apis: T[];

  constructor(apis: Iterable<T>) {
    this.#apis = [...apis].sort((a, b) => b.prefix.length - a.prefix.length);
  }

  match(path: string): T | undefined {
    for (const api of this.#apis) {
      const p = api.prefix;
      if (p === '' || (path.startsWith(p) && (path.length === p.length || path.charCodeAt(p.length) === 47 /* / */))) return api;
    }
    return undefined;
  }
}
