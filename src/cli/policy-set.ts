/**
 * `tollgate policy set --config tollgate.yaml --scope api:azure-openai --file policy.xml`: the
 * seeds' "Set Backend Policy" step (`az apim api policy create`), locally. It points the scope at
 * the policy file in the config (comments and layout of the YAML are kept), and writes the config
 * only if the result loads and every policy compiles.
 * @module
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { HelpRequested, parseCommandArgs } from './args.ts';
import { setYamlString } from './yaml-edit.ts';
import { parseDocument } from 'yaml';
import { writeConfigIfLoads } from './config-write.ts';

/** `global`, `product:ID`, `api:ID`, `operation:API/OPERATION` → the config path to set. */
export function scopePath(scope: string): string[] | undefined {
  if (scope === 'global') return ['policies'];
  const m = /^(product|api|operation):(.+)$/.exec(scope);
  if (!m) return undefined;
  const [, kind, id] = m as unknown as [string, string, string];
  if (kind === 'product') return ['products', id, 'policies'];
  if (kind === 'api') return ['apis', id, 'policies'];
  const slash = id.indexOf('/');
  if (slash <= 0) return undefined;
  return ['apis', id.slice(0, slash), 'operations', id.slice(slash + 1), 'policies'];
}

export async function policySet(args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === '--help' || verb === '-h') throw new HelpRequested('help');
  if (verb !== 'set') {
    console.error('usage: tollgate policy set --config FILE --scope global|product:ID|api:ID|operation:API/OP --file POLICY');
    return 2;
  }
  const values = parseCommandArgs(rest, { config: { type: 'string', short: 'c' }, scope: { type: 'string' }, file: { type: 'string', short: 'f' } });
  if (values.config === undefined || values.scope === undefined || values.file === undefined) {
    console.error('tollgate policy set: --config, --scope and --file are required');
    return 2;
  }
  const path = scopePath(values.scope);
  if (path === undefined) {
    console.error(`tollgate policy set: bad --scope "${values.scope}" (global, product:ID, api:ID or operation:API/OPERATION)`);
    return 2;
  }
  if (!existsSync(values.file)) {
    console.error(`tollgate policy set: ${values.file} does not exist`);
    return 1;
  }
  const configFile = values.config;
  const text = readFileSync(configFile, 'utf8');
  const doc = parseDocument(text);
  const owner = path.slice(0, path[0] === 'apis' && path.length > 3 ? 2 : -1);
  if (owner.length > 0 && path[0] !== 'policies' && !doc.hasIn(owner)) {
    console.error(`tollgate policy set: ${owner.join('.')} is not defined in ${configFile}`);
    return 1;
  }
  const ref = relative(dirname(resolve(configFile)), resolve(values.file));
  // Only the edited line changes (comments, quoting and layout stay as written).
  const next = setYamlString(text, path, ref);
  if (!(await writeConfigIfLoads(configFile, next, 'policy set'))) return 1;
  console.log(`${configFile}: ${path.join('.')} = ${ref}`);
  return 0;
}
