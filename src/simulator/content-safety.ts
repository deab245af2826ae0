/**
 * @module
 * Azure AI Content Safety, simulated: `POST /contentsafety/text:analyze` and
 * `POST /contentsafety/text:shieldPrompt` (`?api-version=` required, as the service requires it),
 * deterministic so that tests and the demo run offline.
 *
 * - Categories: a text containing a trigger (case-insensitive) gets that trigger's severity in
 *   its category; the highest wins. Every category has `cs-<category>-<n>` triggers for n = 1..7
 *   (`cs-hate-4`, `cs-selfharm-6`, `cs-sexual-2`, `cs-violence-7`) plus a few plain-language
 *   ones for the demo; `contentSafety.categories` adds more. `FourSeverityLevels` answers 0, 2,
 *   4, 6 (severity rounded down to even), as the service does.
 * - Blocklists: `contentSafety.blocklists` (`{ name: [terms] }`); a term found in the text is a
 *   match; `haltOnBlocklistHit` skips the categories. An unknown blocklist name is a 404.
 * - Prompt Shields: a user prompt or document containing an attack phrase is an attack.
 * - Limits: `text` and `userPrompt` at most 10,000 characters; at most 5 documents of 10,000
 *   characters together. Over a limit: 400 `InvalidRequestBody`, as the service answers.
 */
import type { ContentSafetySimOptions } from './options.ts';

export const CS_CATEGORIES = ['Hate', 'SelfHarm', 'Sexual', 'Violence'] as const;
type Category = (typeof CS_CATEGORIES)[number];
const MAX_CHARS = 10_000;
const MAX_DOCUMENTS = 5;

const DEMO_TRIGGERS: Readonly<Record<Category, Readonly<Record<string, number>>>> = {
  Hate: { 'subhuman vermin': 6 },
  SelfHarm: { 'hurt myself': 4 },
  Sexual: { 'explicit sexual': 4 },
  Violence: { 'build a bomb': 6, 'murder them': 4 },
};

export const DEFAULT_ATTACK_PHRASES: readonly string[] = [
  'ignore previous instructions',
  'ignore all previous instructions',
  'disregard your instructions',
  'you are now dan',
  'developer mode enabled',
  'reveal your system prompt',
  'cs-attack',
];

export interface ContentSafetySim {
  readonly triggers: ReadonlyMap<Category, ReadonlyArray<readonly [string, number]>>;
  readonly attackPhrases: readonly string[];
  readonly blocklists: ReadonlyMap<string, readonly string[]>;
}

export function resolveContentSafety(opts: ContentSafetySimOptions | undefined): ContentSafetySim {
  const triggers = new Map<Category, Array<readonly [string, number]>>();
  for (const c of CS_CATEGORIES) {
    const list: Array<readonly [string, number]> = [];
    for (let n = 1; n <= 7; n++) list.push([`cs-${c.toLowerCase()}-${n}`, n]);
    for (const [w, s] of Object.entries({ ...DEMO_TRIGGERS[c], ...opts?.categories?.[c] })) list.push([w.toLowerCase(), s]);
    triggers.set(c, list);
  }
  return {
    triggers,
    attackPhrases: (opts?.attackPhrases ?? DEFAULT_ATTACK_PHRASES).map((p) => p.toLowerCase()),
    blocklists: new Map(Object.entries(opts?.blocklists ?? {}).map(([n, terms]) => [n, terms.map((t) => t.toLowerCase())])),
  };
}

export function isContentSafetyPath(path: string): boolean {
  return path === '/contentsafety/text:analyze' || path === '/contentsafety/text:shieldPrompt';
}

interface CsAnswer {
  readonly status: number;
  readonly body: unknown;
}

const invalid = (message: string): CsAnswer => ({ status: 400, body: { error: { code: 'InvalidRequestBody', message, details: [] } } });

/** The answer to a content-safety request (`body` is the parsed JSON, undefined when it was not JSON). */
export function answerContentSafety(sim: ContentSafetySim, path: string, query: URLSearchParams, body: unknown): CsAnswer {
  if (!query.has('api-version')) return { status: 404, body: { error: { code: '404', message: 'Resource not found' } } };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalid('The request body is not a JSON object.');
  const b = body as Record<string, unknown>;
  return path === '/contentsafety/text:analyze' ? analyze(sim, b) : shield(sim, b);
}

function analyze(sim: ContentSafetySim, b: Record<string, unknown>): CsAnswer {
  const text = b['text'];
  if (typeof text !== 'string' || text.length === 0) return invalid('text is required and must be a non-empty string.');
  if (text.length > MAX_CHARS) return invalid(`text length exceeds the limit of ${MAX_CHARS} characters.`);
  const outputType = b['outputType'] ?? 'FourSeverityLevels';
  if (outputType !== 'FourSeverityLevels' && outputType !== 'EightSeverityLevels') return invalid('outputType must be FourSeverityLevels or EightSeverityLevels.');
  const requested = b['categories'] ?? CS_CATEGORIES;
  if (!Array.isArray(requested) || requested.some((c) => !(CS_CATEGORIES as readonly unknown[]).includes(c))) return invalid('categories must name Hate, SelfHarm, Sexual or Violence.');
  const names = b['blocklistNames'] ?? [];
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) return invalid('blocklistNames must be an array of strings.');
  const lower = text.toLowerCase();
  const blocklistsMatch: Array<Record<string, string>> = [];
  for (const name of names as string[]) {
    const terms = sim.blocklists.get(name);
    if (terms === undefined) return { status: 404, body: { error: { code: 'NotFound', message: `The blocklist ${name} is not found.`, details: [] } } };
    terms.forEach((t, i) => {
      if (lower.includes(t)) blocklistsMatch.push({ blocklistName: name, blocklistItemId: `${name}-${i}`, blocklistItemText: t });
    });
  }
  if (blocklistsMatch.length > 0 && b['haltOnBlocklistHit'] === true) return { status: 200, body: { blocklistsMatch, categoriesAnalysis: [] } };
  const categoriesAnalysis = (requested as Category[]).map((category) => {
    let severity = 0;
    for (const [word, s] of sim.triggers.get(category) ?? []) if (s > severity && lower.includes(word)) severity = s;
    return { category, severity: outputType === 'FourSeverityLevels' ? severity - (severity % 2) : severity };
  });
  return { status: 200, body: { blocklistsMatch, categoriesAnalysis } };
}

function shield(sim: ContentSafetySim, b: Record<string, unknown>): CsAnswer {
  const user = b['userPrompt'] ?? '';
  const docs = b['documents'] ?? [];
  if (typeof user !== 'string') return invalid('userPrompt must be a string.');
  if (!Array.isArray(docs) || docs.some((d) => typeof d !== 'string')) return invalid('documents must be an array of strings.');
  if (user.length > MAX_CHARS) return invalid(`userPrompt length exceeds the limit of ${MAX_CHARS} characters.`);
  if (docs.length > MAX_DOCUMENTS) return invalid(`At most ${MAX_DOCUMENTS} documents are allowed.`);
  if ((docs as string[]).reduce((n, d) => n + d.length, 0) > MAX_CHARS) return invalid(`documents exceed ${MAX_CHARS} characters together.`);
  const attack = (t: string): boolean => {
    const lower = t.toLowerCase();
    return sim.attackPhrases.some((p) => lower.includes(p));
  };
  return {
    status: 200,
    body: { userPromptAnalysis: { attackDetected: attack(user) }, documentsAnalysis: (docs as string[]).map((d) => ({ attackDetected: attack(d) })) },
  };
}
