/**
 * Azure AI Content Safety through a configured backend (`https://<name>.cognitiveservices.azure.com`,
 * authenticated like any backend: `Ocp-Apim-Subscription-Key` header credentials, or a managed
 * identity / OAuth2 token for `https://cognitiveservices.azure.com`).
 *
 * - `POST /contentsafety/text:analyze?api-version=2024-09-01` `{text, categories, outputType,
 *   blocklistNames, haltOnBlocklistHit}`: one call per window of at most 10,000 characters (the
 *   service's limit per call).
 * - `POST /contentsafety/text:shieldPrompt?api-version=2024-09-01` `{userPrompt, documents}`: the
 *   user's messages as `userPrompt` (10,000 characters per call), the other messages as
 *   `documents` (at most 5 per call, 10,000 characters together).
 *
 * Calls of one check run at most four at a time and stop at the first finding.
 * @module
 */
import type { BackendPool } from '../upstream/pool.ts';
import { postJson, type CredentialsFor } from '../upstream/side-call.ts';
import { windows } from './text.ts';
import { CATEGORIES, ContentSafetyUnavailable, firstFinding, type Category, type Engine, type Finding, type Rules, type TextPiece } from './engine.ts';

export const API_VERSION = '2024-09-01';
/** Characters per `text:analyze` call and per shield `userPrompt` (the service's documented limits). */
export const MAX_ANALYZE_CHARS = 10_000;
export const MAX_SHIELD_DOCUMENTS = 5;
const MAX_ANSWER_BYTES = 256 * 1024;
const CONCURRENCY = 4;

export interface AzureEngineOptions {
  readonly timeoutMs: number;
  readonly credentials: CredentialsFor;
  readonly clock: () => number;
}

type Call = { readonly op: 'analyze'; readonly text: string } | { readonly op: 'shield'; readonly userPrompt: string; readonly documents: readonly string[] };

export class AzureContentSafety implements Engine {
  readonly #pool: BackendPool;
  readonly #opts: AzureEngineOptions;

  constructor(pool: BackendPool, opts: AzureEngineOptions) {
    this.#pool = pool;
    this.#opts = opts;
  }

  checkPrompt(pieces: readonly TextPiece[], rules: Rules, signal: AbortSignal): Promise<Finding | null> {
    const calls: Call[] = analyzeCalls(pieces.map((p) => p.text).join('\n'), rules, MAX_ANALYZE_CHARS, 0);
    if (rules.shieldPrompt) calls.push(...shieldCalls(pieces));
    return firstFinding(calls, CONCURRENCY, (c) => this.#call(c, rules, signal));
  }

  checkOutput(text: string, rules: Rules, signal: AbortSignal, windowSize = MAX_ANALYZE_CHARS, overlap = 0): Promise<Finding | null> {
    return firstFinding(analyzeCalls(text, rules, windowSize, overlap), CONCURRENCY, (c) => this.#call(c, rules, signal));
  }

  async #call(call: Call, rules: Rules, signal: AbortSignal): Promise<Finding | null> {
    const op = call.op === 'analyze' ? 'text:analyze' : 'text:shieldPrompt';
    const body =
      call.op === 'analyze'
        ? {
            text: call.text,
            ...(rules.thresholds.size > 0 && { categories: [...rules.thresholds.keys()] }),
            outputType: rules.outputType,
            ...(rules.blocklists.length > 0 && { blocklistNames: rules.blocklists, haltOnBlocklistHit: true }),
          }
        : { userPrompt: call.userPrompt, documents: call.documents };
    let answer;
    try {
      answer = await postJson(this.#pool, (b) => `${b.basePath}/contentsafety/${op}?api-version=${API_VERSION}`, JSON.stringify(body), {
        ...this.#opts,
        signal,
        maxAnswerBytes: MAX_ANSWER_BYTES,
        what: 'content safety',
      });
    } catch (err) {
      throw new ContentSafetyUnavailable((err as Error).message);
    }
    if (answer.status !== 200) throw new ContentSafetyUnavailable(`content safety backend "${answer.backendId}" answered ${answer.status} to ${op}`);
    let json: unknown;
    try {
      json = JSON.parse(answer.body.toString('utf8'));
    } catch {
      throw new ContentSafetyUnavailable(`content safety backend "${answer.backendId}" answered ${op} with something that is not JSON`);
    }
    return call.op === 'analyze' ? analyzeFinding(json, rules) : shieldFinding(json);
  }
}

function analyzeCalls(text: string, rules: Rules, size: number, overlap: number): Call[] {
  // Nothing asked of text:analyze (only shields): no call.
  if (rules.thresholds.size === 0 && rules.blocklists.length === 0) return [];
  return windows(text, size, overlap).map((w) => ({ op: 'analyze', text: w }));
}

/**
 * The user's text as userPrompt windows; other untrusted text (tool results, assistant turns) as
 * documents, five (and 10,000 characters) per call. System and developer messages are the
 * application's own instructions and are not sent to the shield.
 */
function shieldCalls(pieces: readonly TextPiece[]): Call[] {
  const calls: Call[] = [];
  const user = pieces.filter((p) => p.user).map((p) => p.text).join('\n');
  for (const w of windows(user, MAX_ANALYZE_CHARS)) calls.push({ op: 'shield', userPrompt: w, documents: [] });
  let batch: string[] = [];
  let size = 0;
  for (const p of pieces) {
    if (p.user || p.trusted) continue;
    for (const w of windows(p.text, MAX_ANALYZE_CHARS)) {
      if (batch.length === MAX_SHIELD_DOCUMENTS || size + w.length > MAX_ANALYZE_CHARS) {
        calls.push({ op: 'shield', userPrompt: '', documents: batch });
        batch = [];
        size = 0;
      }
      batch.push(w);
      size += w.length;
    }
  }
  if (batch.length > 0) calls.push({ op: 'shield', userPrompt: '', documents: batch });
  return calls;
}

function analyzeFinding(json: unknown, rules: Rules): Finding | null {
  const root = isRecord(json) ? json : {};
  const matches = root['blocklistsMatch'];
  if (Array.isArray(matches)) {
    for (const m of matches) {
      if (isRecord(m) && typeof m['blocklistName'] === 'string') return { kind: 'blocklist', blocklist: m['blocklistName'] };
    }
  }
  const analysis = root['categoriesAnalysis'];
  if (!Array.isArray(analysis)) throw new ContentSafetyUnavailable('content safety answer has no categoriesAnalysis');
  for (const a of analysis) {
    if (!isRecord(a)) continue;
    const category = a['category'];
    const severity = a['severity'];
    if (typeof category !== 'string' || !(CATEGORIES as readonly string[]).includes(category) || typeof severity !== 'number') continue;
    const threshold = rules.thresholds.get(category as Category);
    if (threshold !== undefined && severity >= threshold) return { kind: 'category', category: category as Category, severity, threshold };
  }
  return null;
}

function shieldFinding(json: unknown): Finding | null {
  const root = isRecord(json) ? json : {};
  const user = root['userPromptAnalysis'];
  if (isRecord(user) && user['attackDetected'] === true) return { kind: 'attack', source: 'user prompt' };
  const docs = root['documentsAnalysis'];
  if (Array.isArray(docs) && docs.some((d) => isRecord(d) && d['attackDetected'] === true)) return { kind: 'attack', source: 'documents' };
  if (!isRecord(user) && !Array.isArray(docs)) throw new ContentSafetyUnavailable('content safety answer has no userPromptAnalysis');
  return null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
