/**
 * Reading a directory of APIM policy documents laid out like test/fixtures/apim-policies/: the
 * README's deploy-time placeholders filled in (Bicep format() templates formatted), and the
 * fragment-id table.
 * @module
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface CorpusDoc {
  readonly file: string;
  readonly kind: 'policies' | 'fragment';
  /** The text with the deploy-time placeholders filled in. */
  readonly text: string;
}

export const GUID = '00000000-0000-4000-8000-000000000001';

/**
 * The README's deploy-time placeholders (single braces; APIM never sees them). Only these exact
 * tokens are replaced: a C# interpolation like `$"{region}"` is the document's own code.
 */
export function fillPlaceholders(text: string, backendId: string): string {
  const tokenLimit = `<when condition="@(true)"><llm-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="1000" estimate-prompt-tokens="true" /></when>`;
  const out = text
    .replaceAll('{backend-id}', backendId)
    .replaceAll('{retry-count}', '2')
    .replaceAll('{tpm}', '1000')
    .replaceAll('{tenant-id}', GUID)
    .replaceAll('{client-application-id}', GUID)
    .replaceAll('{group-id}', GUID)
    .replaceAll('{product-token-limits}', tokenLimit);
  return isBicepFormat(out) ? fillBicepFormat(out, backendId) : out;
}

/**
 * A Bicep `format()` template: `{0}`-style arguments, and `{{` / `}}` for literal braces (so an
 * expression block reads `@{{ ... }}`). APIM never sees one: Bicep formats it at deployment.
 */
function isBicepFormat(text: string): boolean {
  if (/@\{\{/.test(text)) return true;
  // `{0}` outside a C# string.Format call.
  return /\{[0-9]\}/.test(text.replace(/string\.Format\s*\([^)]*\)/g, ''));
}

/** Formats a Bicep template with plausible arguments: a backend id, a number for numeric attributes, a word otherwise. */
function fillBicepFormat(text: string, backendId: string): string {
  const numeric = /(tokens-per-minute|token-quota|calls|renewal-period|count|interval|max-interval|delta|timeout|duration|bandwidth)="$/;
  let out = '';
  let from = 0;
  for (const m of text.matchAll(/\{\{|\}\}|\{([0-9]+)\}/g)) {
    out += text.slice(from, m.index);
    from = m.index + m[0].length;
    if (m[1] === undefined) out += m[0][0];
    else if (/backend-id="$/.test(out)) out += backendId;
    else if (numeric.test(out)) out += '1000';
    else out += `value${m[1]}`;
  }
  return out + text.slice(from);
}

/** `fragment-id → file` from the README's "Fragment ids" table (the first file when several). */
export function fragmentTable(dir: string): Map<string, string[]> {
  const table = new Map<string, string[]>();
  const readme = join(dir, 'README.md');
  if (!existsSync(readme)) return table;
  for (const line of readFileSync(readme, 'utf8').split('\n')) {
    const m = /^\|\s*`([^`]+)`\s*\|\s*(`.*`)\s*\|\s*$/.exec(line);
    if (m === null) continue;
    const files = [...(m[2] ?? '').matchAll(/`([^`]+\.xml)`/g)].map((f) => f[1] ?? '');
    if (files.length > 0 && !(m[1] ?? '').endsWith('.xml')) table.set(m[1] ?? '', files);
  }
  return table;
}

export function readCorpus(dir: string, backendId = 'corpus-pool'): CorpusDoc[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.xml'))
    .sort()
    .map((file) => {
      const text = fillPlaceholders(readFileSync(join(dir, file), 'utf8'), backendId);
      const root = /<(policies|fragment)\b/.exec(text.replace(/<!--[\s\S]*?-->/g, ''));
      return { file, kind: root?.[1] === 'fragment' ? 'fragment' : 'policies', text };
    });
}
