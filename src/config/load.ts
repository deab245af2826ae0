/**
 * Loading a configuration: YAML → named-value substitution → schema validation → cross-reference
 * checks. Every problem of a stage is collected (not just the first) with its `file:line:col`;
 * cross-references are checked once the schema holds, since they need its defaults.
 * @module
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { configSchema, namedValueSchema, type Config } from './schema.ts';
import { resolveNamedValues, substitute, Secrets, type Issue } from './named-values.ts';
import { checkReferences } from './references.ts';
import { adminKeyProblem } from '../admin/auth.ts';
import { redactSecrets } from '../secrets/redactor.ts';
import { locate } from './locate.ts';
import { loadApiSpecs } from './api-specs.ts';
import type { ApiSpec } from '../openapi/spec.ts';
import { knownKeysAt } from './schema-keys.ts';
import { didYouMean } from '../util/did-you-mean.ts';

const namedValuesSchema = z.record(z.string(), namedValueSchema);
import { EMPTY_POLICY_DOCS, loadPolicyDocs, type PolicyDocs, type PolicyIssue } from './policies.ts';

export interface ConfigIssue {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly path: string;
  readonly message: string;
}

/** Thrown when a configuration cannot be used; `issues` has every problem found, in file order. */
export class ConfigError extends Error {
  readonly code = 'GW_ERR_CONFIG_INVALID';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** The printer every CLI issue line goes through (validate, start, reload, policy set): it redacts secrets. */
export function formatIssue(i: ConfigIssue): string {
  return redactSecrets(`${i.file}:${i.line}:${i.col}: ${i.message}${i.path ? ` (at ${i.path})` : ''}`);
}

export interface LoadedConfig {
  readonly config: Config;
  readonly secrets: Secrets;
  readonly file: string | undefined;
  /** Policy documents read from the config (compiled when the runtime is built). */
  readonly policies: PolicyDocs;
  /** Resolved named values (secrets included): never print this. */
  readonly namedValues: ReadonlyMap<string, string>;
  /** The OpenAPI descriptions of the APIs that name one (`apis.<id>.openapi`), by API id. */
  readonly specs: ReadonlyMap<string, ApiSpec>;
}

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'read error';
    throw new ConfigError([{ file, line: 1, col: 1, path: '', message: `cannot read config file (${code})` }]);
  }
  return loadConfigText(text, file, env);
}

/** Parses and validates YAML text; `file` is only used for messages and relative `file:` named values. */
export function loadConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { file, line: pos.line, col: pos.col, path: '', message: e.message.split('\n')[0] ?? e.message };
      }),
    );
  }
  let raw: unknown;
  try {
    // maxAliasCount bounds "billion laughs" expansion of YAML aliases.
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    throw new ConfigError([{ file, line: 1, col: 1, path: '', message: `cannot read the YAML document: ${(err as Error).message}` }]);
  }
  return validate(raw, file, env, (path, atKey) => locate(doc, lineCounter, path, atKey), { doc, lineCounter, text });
}

/** Validates an in-memory config object (the demo builds one); positions are reported as 1:1. */
export function loadConfigObject(raw: unknown, env: NodeJS.ProcessEnv = process.env, label = '<built-in>'): LoadedConfig {
  return validate(raw, label, env, () => ({ line: 1, col: 1 }));
}

function validate(
  raw: unknown,
  file: string,
  env: NodeJS.ProcessEnv,
  where: (path: readonly PropertyKey[], atKey: boolean) => { line: number; col: number },
  source?: { doc: Document; lineCounter: LineCounter; text: string },
): LoadedConfig {
  const issues: Issue[] = [];
  const secrets = new Secrets();

  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError([{ file, line: 1, col: 1, path: '', message: 'the configuration must be a YAML mapping' }]);
  }
  const nvRaw = (raw as Record<string, unknown>)['namedValues'] ?? {};
  const nv = namedValuesSchema.safeParse(nvRaw);
  let values = new Map<string, string>();
  if (nv.success) values = resolveNamedValues(nv.data, file.startsWith('<') ? undefined : file, env, secrets, issues);
  else issues.push(...zodIssues(nv.error, ['namedValues'], namedValuesSchema));

  const declared = new Set(typeof nvRaw === 'object' && nvRaw !== null ? Object.keys(nvRaw) : []);
  const substituted = substitute(raw, values, declared, [], issues);
  const parsed = configSchema.safeParse(substituted);
  if (!parsed.success) {
    // Named-value errors were already reported; schema errors under namedValues would repeat them.
    issues.push(...zodIssues(parsed.error, [], configSchema).filter((i) => nv.success || i.path[0] !== 'namedValues'));
  } else {
    issues.push(...checkReferences(parsed.data), ...adminKeyIssues(parsed.data, secrets), ...authorizationSecretIssues(parsed.data, secrets));
  }

  const configFile = file.startsWith('<') ? undefined : file;
  const located: ConfigIssue[] = issues.map((i) => {
    const pos = where(i.path, i.atKey === true);
    return { file, line: pos.line, col: pos.col, path: i.path.map(String).join('.'), message: secrets.redact(i.message) };
  });
  let policies = EMPTY_POLICY_DOCS;
  if (parsed.success && issues.length === 0) {
    const policyIssues: PolicyIssue[] = [];
    policies = loadPolicyDocs(parsed.data, { file: configFile, doc: source?.doc, lineCounter: source?.lineCounter, namedValues: values, text: source?.text }, policyIssues);
    for (const p of policyIssues) located.push({ ...p.pos, path: p.path.map(String).join('.'), message: secrets.redact(p.message) });
  }
  let specs: ReadonlyMap<string, ApiSpec> = new Map();
  if (parsed.success && issues.length === 0) {
    const specIssues: Issue[] = [];
    specs = loadApiSpecs(parsed.data, configFile, specIssues);
    for (const i of specIssues) {
      const pos = where(i.path, i.atKey === true);
      located.push({ file, line: pos.line, col: pos.col, path: i.path.map(String).join('.'), message: secrets.redact(i.message) });
    }
  }
  if (located.length > 0) throw new ConfigError(sortIssues(located));
  return { config: parsed.data as Config, secrets, file: configFile, policies, namedValues: values, specs };
}

/**
 * Admin keys are secret named values (so every sink redacts them), and an admin listener off
 * loopback must have one.
 */
function adminKeyIssues(config: Config, secrets: Secrets): Issue[] {
  const issues: Issue[] = [];
  config.admin.keys.forEach((key, i) => {
    // The message says where the key comes from, never the key.
    if (!secrets.has(key)) issues.push({ path: ['admin', 'keys', i], message: 'an admin key must be a secret named value reference, e.g. "{{admin-key}}" with secret: true' });
  });
  const problem = adminKeyProblem(config.admin);
  if (problem !== null) issues.push({ path: ['admin', 'listen'], message: problem });
  return issues;
}

/** An authorization's secrets come only from secret named values, so every sink redacts them. */
function authorizationSecretIssues(config: Config, secrets: Secrets): Issue[] {
  const issues: Issue[] = [];
  for (const [provider, ids] of Object.entries(config.authorizations)) {
    for (const [id, a] of Object.entries(ids)) {
      const fields: Array<[PropertyKey[], string | undefined]> = [
        [['clientCredentials', 'clientSecret'], a.clientCredentials?.clientSecret],
        [['refreshToken', 'clientSecret'], a.refreshToken?.clientSecret],
        [['refreshToken', 'refreshToken'], a.refreshToken?.refreshToken],
        [['token'], a.token],
      ];
      for (const [path, value] of fields) {
        if (value !== undefined && !secrets.has(value)) {
          issues.push({ path: ['authorizations', provider, id, ...path], message: 'must be a secret named value reference, e.g. "{{github-token}}" with secret: true' });
        }
      }
    }
  }
  return issues;
}

/** File order: the config file's issues and each policy file's, by line then column. */
export function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.sort((a, b) => (a.file === b.file ? a.line - b.line || a.col - b.col : a.file < b.file ? -1 : 1));
}

/** Zod's issues as located ones; each unknown field is its own issue, at its key, with the closest known field. */
function zodIssues(error: z.ZodError, prefix: PropertyKey[], schema: z.ZodType): Issue[] {
  return error.issues.flatMap((i): Issue[] => {
    const path = [...prefix, ...i.path];
    if (i.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, i.path);
      return i.keys.map((k) => ({ path: [...path, k], atKey: true, message: `unknown field "${k}"${didYouMean(k, known)}` }));
    }
    return [{ path, message: i.message }];
  });
}
