/**
 * What a chat request contributes to its cache key. Two parts:
 * - the text that is embedded (the conversation's messages, without the system messages);
 * - everything else that shapes the answer, hashed into the partition and so matched EXACTLY:
 *   the system messages (unless `ignore-system-messages`), the temperature and top_p class,
 *   `tools`, `tool_choice`, `response_format`, `n`, the length cap and the other sampling
 *   parameters, and non-text content (images, audio). Two requests that would get materially
 *   different answers never share a partition, whatever their prompts' similarity.
 * @module
 */
import { sha256Id } from './digest.ts';

type Json = Record<string, unknown>;

export interface PromptKey {
  /** The text to embed. */
  readonly text: string;
  /** Messages counted for `max-message-count`. */
  readonly messageCount: number;
  /**
   * Every answer-shaping field besides the embedded text, as one unambiguous JSON array (hashed
   * once, with the rest of the partition, by partitionId: one hash per lookup instead of two).
   */
  readonly shape: string;
}

/** Request fields whose value changes the answer; each goes into the shape as it is. */
const SHAPING_FIELDS = [
  'tools',
  'tool_choice',
  'functions',
  'function_call',
  'parallel_tool_calls',
  'response_format',
  'n',
  'seed',
  'stop',
  'max_tokens',
  'max_completion_tokens',
  'logprobs',
  'top_logprobs',
  'logit_bias',
  'presence_penalty',
  'frequency_penalty',
  'reasoning_effort',
  'modalities',
  'audio',
  'prediction',
] as const;
const SHAPING_INDEX: ReadonlyMap<string, number> = new Map(SHAPING_FIELDS.map((f, i) => [f, i]));

/**
 * Sampling classes rather than exact values: temperature 0 (deterministic) is its own class, then
 * low (≤ 0.3), standard (≤ 1, OpenAI's default when absent) and high. A cached answer is a sample,
 * so 0.7 and 0.8 may share one; 0 and 1 never do.
 */
export function temperatureClass(t: unknown): string {
  if (typeof t !== 'number') return 'std';
  if (t <= 0) return 'zero';
  if (t <= 0.3) return 'low';
  if (t <= 1) return 'std';
  return 'high';
}

export function topPClass(p: unknown): string {
  if (typeof p !== 'number' || p >= 1) return 'std';
  return `p${Math.round(p * 10)}`;
}

/** Text of a message's content: a string, or the text parts of a content array (others go to `extra`). */
function contentText(content: unknown, extra: unknown[]): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content === undefined || content === null ? '' : JSON.stringify(content);
  let text = '';
  for (const part of content) {
    const p = part as Json | null;
    if (p !== null && typeof p === 'object' && p['type'] === 'text' && typeof p['text'] === 'string') text += (text === '' ? '' : '\n') + p['text'];
    else extra.push(part);
  }
  return text;
}

/** The key of a chat request, or undefined when it has no messages to key on. */
export function promptKey(json: Json, ignoreSystemMessages: boolean): PromptKey | undefined {
  const messages = json['messages'];
  if (!Array.isArray(messages) || messages.length === 0) return undefined;
  const lines: string[] = [];
  const system: string[] = [];
  const extra: unknown[] = [];
  let counted = 0;
  for (const raw of messages) {
    if (typeof raw !== 'object' || raw === null) return undefined;
    const m = raw as Json;
    const role = typeof m['role'] === 'string' ? m['role'] : 'user';
    const isSystem = role === 'system' || role === 'developer';
    if (isSystem && ignoreSystemMessages) continue;
    counted++;
    const text = contentText(m['content'], extra);
    if (isSystem) {
      system.push(text);
      continue;
    }
    // Tool calls and tool results are part of the conversation: their JSON is matched exactly.
    if (m['tool_calls'] !== undefined) extra.push(m['tool_calls']);
    if (m['tool_call_id'] !== undefined) extra.push(m['tool_call_id']);
    lines.push(`${role}: ${text}`);
  }
  if (lines.length === 0) return undefined;
  // Built by hand in a fixed order: only the request's own objects need sorted keys (stableJson),
  // which keeps the common case (no tools, no shaping fields) to three JSON.stringify calls.
  // The classes are plain identifiers, so quoting them is their JSON.
  let shape = `["${temperatureClass(json['temperature'])}","${topPClass(json['top_p'])}",${system.length === 0 ? '[]' : JSON.stringify(system)},${extra.length === 0 ? '[]' : stableJson(extra)}`;
  // The request's own keys (usually just model and messages) are checked against the shaping
  // fields, rather than 20 keyed reads of mostly absent fields; they are added in SHAPING_FIELDS
  // order all the same, so the shape (and every partition id) is what it was.
  let present: number[] | undefined;
  for (const k of Object.keys(json)) {
    const i = SHAPING_INDEX.get(k);
    if (i !== undefined && json[k] !== undefined) (present ??= []).push(i);
  }
  if (present !== undefined) {
    present.sort((a, b) => a - b);
    for (const i of present) {
      const f = SHAPING_FIELDS[i] as string;
      shape += `,"${f}",${stableJson(json[f])}`;
    }
  }
  return { text: lines.join('\n'), messageCount: counted, shape: `${shape}]` };
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` give the same shape. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Json;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * One opaque partition id from its parts (each length-prefixed, so no two part lists collide).
 * SHA-256 of the joined string (the same digest as feeding the parts one by one), remembered for
 * recent short inputs (digest.ts): a tenant's requests share a partition.
 */
export function partitionId(parts: readonly string[]): string {
  let joined = '';
  for (const p of parts) joined += `${p.length}:${p}`;
  return sha256Id(joined);
}
