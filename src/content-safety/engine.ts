/**
 * What every content-safety engine (Azure AI Content Safety through a backend, or the built-in
 * local engine) answers to the `llm-content-safety` policy: the first finding that blocks, or
 * none. Findings name a category, a blocklist, an attack or a kind of personal data, never the
 * text that was checked.
 * @module
 */
import type { PiiType } from './pii.ts';
import { foldText } from './normalise.ts';

export const CATEGORIES = ['Hate', 'SelfHarm', 'Sexual', 'Violence'] as const;
export type Category = (typeof CATEGORIES)[number];
export type OutputType = 'FourSeverityLevels' | 'EightSeverityLevels';

/** What one policy asks for (APIM's attributes and children). */
export interface Rules {
  /** Blocked when severity ≥ threshold. */
  readonly thresholds: ReadonlyMap<Category, number>;
  readonly outputType: OutputType;
  readonly blocklists: readonly string[];
  /** Prompt Shields (attack detection) on the prompt. */
  readonly shieldPrompt: boolean;
}

export type Finding =
  | { readonly kind: 'category'; readonly category: Category; readonly severity: number; readonly threshold: number }
  | { readonly kind: 'blocklist'; readonly blocklist: string }
  | { readonly kind: 'attack'; readonly source: 'user prompt' | 'documents' }
  | { readonly kind: 'pii'; readonly type: PiiType };

/**
 * One piece of prompt text: `user` for the user's own messages (Prompt Shields' userPrompt);
 * `trusted` for the application's own instructions (system, developer), which attack checks skip.
 */
export interface TextPiece {
  readonly text: string;
  readonly user: boolean;
  readonly trusted: boolean;
}

export interface Engine {
  /** Checks a prompt: categories, blocklists, attacks (when `rules.shieldPrompt`). */
  checkPrompt(pieces: readonly TextPiece[], rules: Rules, signal: AbortSignal): Promise<Finding | null>;
  /**
   * Checks model output: categories and blocklists (attacks are a prompt's property), in windows
   * of `windowSize` characters overlapping by `overlap` (APIM's window-size, window-overlap-size).
   */
  checkOutput(text: string, rules: Rules, signal: AbortSignal, windowSize?: number, overlap?: number): Promise<Finding | null>;
}

/** The engine could not answer (timeout, 5xx, circuit open, unreadable answer): the policy's fail mode decides. */
export class ContentSafetyUnavailable extends Error {
  override readonly name = 'ContentSafetyUnavailable';
}

/** The finding as the client may read it: a category, a list, a kind of data; never the text. */
export function describeFinding(f: Finding): string {
  switch (f.kind) {
    case 'category':
      return `category ${f.category} (severity ${f.severity}, threshold ${f.threshold})`;
    case 'blocklist':
      return `blocklist "${f.blocklist}"`;
    case 'attack':
      return `a prompt attack was detected in the ${f.source}`;
    case 'pii':
      return `personal data (${f.type})`;
  }
}

/** The label a metric and a log line carry for a finding. */
export function findingLabel(f: Finding): string {
  switch (f.kind) {
    case 'category':
      return f.category;
    case 'blocklist':
      return 'Blocklist';
    case 'attack':
      return 'Attack';
    case 'pii':
      return 'PII';
  }
}

/**
 * A blocklist: its terms matched case-insensitively as whole words on folded text, so that
 * "B a d w o r d" in look-alike letters is not a way around it. Compiled once.
 */
export class Blocklist {
  readonly name: string;
  readonly #re: RegExp | null;

  constructor(name: string, terms: readonly string[]) {
    this.name = name;
    const folded = terms.map((t) => foldText(t).trim()).filter((t) => t !== '');
    this.#re = folded.length === 0 ? null : new RegExp(`(?<![a-z0-9])(?:${folded.map(escapeRegExp).join('|')})(?![a-z0-9])`);
  }

  /** `folded` is `foldText(text)`. */
  matches(folded: string): boolean {
    return this.#re !== null && this.#re.test(folded);
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
}

/** Runs `work` over `items` with at most `limit` at a time, stopping at the first non-null result. */
export async function firstFinding<T>(items: readonly T[], limit: number, work: (item: T) => Promise<Finding | null>): Promise<Finding | null> {
  let next = 0;
  let found: Finding | null = null;
  const worker = async (): Promise<void> => {
    while (found === null && next < items.length) {
      const item = items[next++] as T;
      const f = await work(item);
      if (f !== null && found === null) found = f;
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return found;
}
