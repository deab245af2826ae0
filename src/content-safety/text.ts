/**
 * The text content-safety checks look at: every message's text of a chat request (string content
 * and the `text` parts of multi-part content, tool results included), the `prompt` of a legacy
 * completion, the `input` of a Responses request; and the text of an answer (JSON or one SSE
 * event). Images, audio and files are not text and are not sent. Windows split long text to the
 * service's input limit.
 * @module
 */
import type { TextPiece } from './engine.ts';

/**
 * One piece of prompt text and where it came from (for redaction, which writes it back). It is
 * the engines' `TextPiece` too, so the policy hands the parts over as they are: no second list
 * per request, and after `replace` the part holds the redacted text (the check sees that).
 */
export interface PromptPart extends TextPiece {
  /** The message's role (`user` for a legacy `prompt` or a Responses `input` string, `system` for `instructions`). */
  readonly role: string;
  /** Replaces this part's text in the request JSON and in the part (used by PII redaction). */
  replace(text: string): void;
}

/** A part's place in the request JSON: a class, so a part costs one object and no closure. */
class Slot implements PromptPart {
  text: string;
  readonly role: string;
  readonly user: boolean;
  readonly trusted: boolean;
  readonly #holder: Record<string | number, unknown>;
  readonly #key: string | number;

  constructor(holder: Record<string, unknown> | unknown[], key: string | number, text: string, role: string) {
    this.text = text;
    this.role = role;
    this.user = role === 'user';
    this.trusted = isTrustedRole(role);
    this.#holder = holder as Record<string | number, unknown>;
    this.#key = key;
  }

  replace(text: string): void {
    this.#holder[this.#key] = text;
    this.text = text;
  }
}

/** The prompt's text pieces, in order. Mutating through `replace` changes `json` in place. */
export function promptParts(json: Record<string, unknown>): PromptPart[] {
  const parts: PromptPart[] = [];
  const messages = json['messages'];
  if (Array.isArray(messages)) {
    for (const m of messages) if (isRecord(m)) contentParts(m, parts);
  }
  const prompt = json['prompt'];
  if (typeof prompt === 'string') parts.push(slot(json, 'prompt', prompt, 'user'));
  else if (Array.isArray(prompt)) prompt.forEach((p, i) => typeof p === 'string' && parts.push(slot(prompt, i, p, 'user')));
  const input = json['input'];
  if (typeof input === 'string') parts.push(slot(json, 'input', input, 'user'));
  else if (Array.isArray(input)) for (const item of input) if (isRecord(item)) contentParts(item, parts);
  const instructions = json['instructions'];
  if (typeof instructions === 'string') parts.push(slot(json, 'instructions', instructions, 'system'));
  return parts;
}

/**
 * Every object `promptParts` reads text from: the request itself, its messages (and a Responses
 * request's input items), and the parts of their content arrays. Kept beside `promptParts` so
 * the two change together: src/providers/openai/members.ts counts these objects' members.
 */
export function forEachPromptObject(json: Record<string, unknown>, visit: (o: Record<string, unknown>) => void): void {
  visit(json);
  for (const list of [json['messages'], json['input']]) {
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      if (!isRecord(item)) continue;
      visit(item);
      const content = item['content'];
      if (Array.isArray(content)) for (const part of content) if (isRecord(part)) visit(part);
    }
  }
}

/** The application's own instructions (system, developer): not where a prompt attack comes from. */
export function isTrustedRole(role: string): boolean {
  return role === 'system' || role === 'developer';
}

function contentParts(message: Record<string, unknown>, out: PromptPart[]): void {
  const c = message['content'];
  const role = typeof message['role'] === 'string' ? message['role'] : 'user';
  if (typeof c === 'string') {
    out.push(slot(message, 'content', c, role));
    return;
  }
  if (!Array.isArray(c)) return;
  for (const p of c) {
    // `text` parts of chat content, `input_text` / `output_text` of the Responses API.
    if (isRecord(p) && typeof p['text'] === 'string') out.push(slot(p, 'text', p['text'], role));
  }
}

function slot(holder: Record<string, unknown> | unknown[], key: string | number, text: string, role: string): PromptPart {
  return new Slot(holder, key, text, role);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The text of a chat or legacy completion answer (every choice). */
export function completionText(json: unknown): string {
  if (!isRecord(json)) return '';
  const choices = json['choices'];
  if (!Array.isArray(choices)) return '';
  const out: string[] = [];
  for (const c of choices) {
    if (!isRecord(c)) continue;
    if (typeof c['text'] === 'string') out.push(c['text']);
    const m = c['message'];
    if (isRecord(m)) {
      if (typeof m['content'] === 'string') out.push(m['content']);
      if (typeof m['refusal'] === 'string') out.push(m['refusal']);
    }
    const d = c['delta'];
    if (isRecord(d)) {
      if (typeof d['content'] === 'string') out.push(d['content']);
      if (typeof d['refusal'] === 'string') out.push(d['refusal']);
    }
  }
  return out.join('');
}

/**
 * Splits `text` into windows of at most `size` characters (UTF-16 code units, as the service
 * counts), each starting `overlap` characters before the previous one ended so a word cut at a
 * boundary is still seen whole. A surrogate pair is never split.
 */
export function windows(text: string, size: number, overlap = 0): string[] {
  if (text.length <= size) return text.length === 0 ? [] : [text];
  const out: string[] = [];
  const step = Math.max(1, size - overlap);
  for (let start = 0; start < text.length; ) {
    let end = Math.min(text.length, start + size);
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
    out.push(text.slice(start, end));
    if (end >= text.length) break;
    let next = Math.max(start + 1, Math.min(end, start + step));
    if (isLowSurrogate(text.charCodeAt(next))) next++;
    start = next;
  }
  return out;
}

const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLowSurrogate = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;
