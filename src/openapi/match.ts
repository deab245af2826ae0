/**
 * Matches a request (method and path below the API's mount path) to an imported operation, and
 * fills its URL template back in for a tool call. Templates are compiled once at load; a literal
 * segment beats a parameter (`/pet/findByStatus` before `/pet/{petId}`), as in APIM.
 * @module
 */
import type { OperationInfo } from '../core/context.ts';
import type { SpecOperation } from './spec.ts';

export type OperationMatch =
  | { readonly ok: true; readonly operation: SpecOperation; readonly info: OperationInfo; readonly params: ReadonlyMap<string, string> }
  | { readonly ok: false; readonly reason: 'path' | 'method' };

interface Compiled {
  readonly operation: SpecOperation;
  /** `context.Operation`: made once here, not per request. */
  readonly info: OperationInfo;
  readonly regex: RegExp;
  readonly names: readonly string[];
  /** Characters outside `{...}`: more literal text sorts first. */
  readonly literal: number;
}

export class OperationMatcher {
  readonly #compiled: Compiled[];

  constructor(operations: readonly SpecOperation[]) {
    this.#compiled = operations
      .map((operation) => compile(operation))
      .sort((a, b) => b.literal - a.literal || a.operation.template.localeCompare(b.operation.template));
  }

  match(method: string, path: string): OperationMatch {
    let pathMatched = false;
    for (const c of this.#compiled) {
      const m = c.regex.exec(path);
      if (m === null) continue;
      if (c.operation.method !== method) {
        pathMatched = true;
        continue;
      }
      const params = new Map<string, string>();
      c.names.forEach((name, i) => {
        const raw = m[i + 1] as string;
        let value = raw;
        try {
          value = decodeURIComponent(raw);
        } catch {
          // A malformed escape stays as it was sent.
        }
        params.set(name, value);
      });
      return { ok: true, operation: c.operation, info: c.info, params };
    }
    return { ok: false, reason: pathMatched ? 'method' : 'path' };
  }
}

function compile(operation: SpecOperation): Compiled {
  const names: string[] = [];
  let literal = 0;
  let source = '';
  for (const part of operation.template.split(/(\{[^}/]+\})/)) {
    if (part.startsWith('{') && part.endsWith('}')) {
      names.push(part.slice(1, -1));
      source += '([^/]+)';
    } else {
      literal += part.length;
      source += part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  // A trailing slash is tolerated either way (clients differ).
  const info: OperationInfo = { id: operation.id, name: operation.summary ?? operation.id, method: operation.method, urlTemplate: operation.template };
  return { operation, info, regex: new RegExp(`^${source.replace(/\/$/, '')}/?$`), names, literal };
}

/** `/pet/{petId}` with `{ petId: 7 }` → `/pet/7` (each value percent-encoded as one segment). */
export function fillTemplate(template: string, values: ReadonlyMap<string, string>): string {
  return template.replace(/\{([^}/]+)\}/g, (_, name: string) => encodeURIComponent(values.get(name) ?? ''));
}
