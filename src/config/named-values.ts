/**
 * Named values (APIM's `namedValues`): values and secrets from config, the environment or a file,
 * substituted wherever `{{name}}` appears in a config string. Secret values are collected so that
 * everything printed (logs, errors, admin output, `validate` output) can be scrubbed of them.
 * @module
 */
import { readFileSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { redactSecrets, secretRegistry } from '../secrets/redactor.ts';

export interface NamedValueSpec {
  value?: string | undefined;
  env?: string | undefined;
  file?: string | undefined;
  secret: boolean;
}

export interface Issue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  /** Point at the last path segment's key rather than its value (e.g. an unknown field). */
  readonly atKey?: boolean;
}

/**
 * Secret values known to this configuration. Each is also registered process-wide
 * (src/secrets/redactor.ts), so every sink redacts it in every form it can take; `redact` is the
 * same redaction.
 */
export class Secrets {
  readonly #values = new Set<string>();

  add(value: string): void {
    // Very short secrets would scrub ordinary words out of every message; they are refused at load instead.
    if (value.length < 4) return;
    this.#values.add(value);
    secretRegistry.add(value);
  }

  has(value: string): boolean {
    return this.#values.has(value);
  }

  redact(text: string): string {
    return redactSecrets(text);
  }
}

const REF = /\{\{([A-Za-z0-9._-]+)\}\}/g;

/** Resolves each named value to its string; errors name the value, never its content. */
export function resolveNamedValues(
  specs: Record<string, NamedValueSpec>,
  configFile: string | undefined,
  env: NodeJS.ProcessEnv,
  secrets: Secrets,
  issues: Issue[],
): Map<string, string> {
  const out = new Map<string, string>();
  const base = configFile ? dirname(resolve(configFile)) : process.cwd();
  for (const [name, spec] of Object.entries(specs)) {
    let value: string | undefined;
    if (spec.value !== undefined) value = spec.value;
    else if (spec.env !== undefined) {
      value = env[spec.env];
      if (value === undefined) issues.push({ path: ['namedValues', name, 'env'], message: `environment variable ${spec.env} is not set (named value "${name}")` });
    } else if (spec.file !== undefined) {
      try {
        value = readFileSync(resolve(base, spec.file), 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'read error';
        issues.push({ path: ['namedValues', name, 'file'], message: `cannot read file for named value "${name}" (${code})` });
      }
    }
    if (value === undefined) continue;
    if (spec.secret) {
      if (value.length < 4) issues.push({ path: ['namedValues', name], message: `secret named value "${name}" is shorter than 4 characters` });
      secrets.add(value);
    }
    out.set(name, value);
  }
  return out;
}

/**
 * Replaces `{{name}}` in every string below `node` (in place on a fresh copy), recording unknown
 * names as issues at their path. The `namedValues` section itself is not substituted.
 */
export function substitute(
  node: unknown,
  values: Map<string, string>,
  declared: ReadonlySet<string>,
  path: PropertyKey[],
  issues: Issue[],
): unknown {
  if (typeof node === 'string') {
    if (!node.includes('{{')) return node;
    return node.replace(REF, (match, name: string) => {
      const v = values.get(name);
      if (v === undefined) {
        // A declared value that failed to resolve was already reported where it is declared.
        if (!declared.has(name)) issues.push({ path, message: `unknown named value "{{${name}}}"` });
        return match;
      }
      return v;
    });
  }
  if (Array.isArray(node)) return node.map((item, i) => substitute(item, values, declared, [...path, i], issues));
  if (typeof node === 'object' && node !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      // Policy documents substitute their own {{named values}} when they are read, so that
      // positions inside them stay exact; named values are not substituted in their own section.
      const skip = (path.length === 0 && (k === 'namedValues' || k === 'fragments')) || k === 'policies';
      out[k] = skip ? v : substitute(v, values, declared, [...path, k], issues);
    }
    return out;
  }
  return node;
}
