/**
 * @module
 * Token counting shared by the gateway (admission estimates, usage fallbacks) and the simulator
 * (exact `usage` in its replies). Counts follow OpenAI's cookbook ("How to count tokens with
 * tiktoken"), whose formulas match what the API reports for text chats and tool definitions;
 * images are a documented estimate.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CountBudget, countBounded, segmentEnd } from './bounded.ts';
import { CompactBpe } from './compact-bpe.ts';
import { CountMemo } from './count-memo.ts';

export type EncodingName = 'o200k_base' | 'cl100k_base';
export type PromptOperation = 'chat' | 'completions' | 'embeddings';

/** Library and encodings behind the counts, for docs and `/health`-style reports. */
export const tokenizerName = "tiktoken's BPE over gpt-tokenizer's tables (o200k_base, cl100k_base)";

/** The subset of gpt-tokenizer's encoding API this module relies on (decoding only). */
interface BpeDecoder {
  decode(tokens: Iterable<number>): string;
}

/** gpt-tokenizer's pre-tokenizers, the split compact-bpe.ts encodes with. */
interface SplitPatterns {
  O200K_TOKEN_SPLIT_REGEX: RegExp;
  CL100K_TOKEN_SPLIT_REGEX: RegExp;
}

/**
 * Cookbook framing ("How to count tokens with tiktoken"): every message is wrapped in
 * `<|start|>{role/name}\n{content}<|end|>\n`, and the reply is primed with `<|start|>assistant<|message|>`.
 */
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_NAME = 1;
const REPLY_PRIMING_TOKENS = 3;

/**
 * OpenAI bills images by 512 px tiles (85 base + 170 per tile). The size is unknown without decoding
 * the image, so `detail: 'low'` costs the fixed 85 and anything else is charged as a 1024x1024
 * high-detail image (4 tiles): 85 + 4 * 170 = 765.
 */
export const IMAGE_TOKENS_LOW_DETAIL = 85;
export const IMAGE_TOKENS_HIGH_DETAIL = 765;

const requireCjs = createRequire(import.meta.url);
const loaded = new Map<EncodingName, CompactBpe>();
const decoders = new Map<EncodingName, BpeDecoder>();
/** Per encoding, the segment counter handed to countBounded (made once, not per string). */
const segmentCounters = new Map<EncodingName, (segment: string) => number>();
/**
 * Per encoding, counts of whole strings seen before (count-memo.ts): a conversation's earlier
 * messages come back on every turn. Same counts as without it.
 */
const memos = new Map<EncodingName, CountMemo>();

// Each rank table costs ~40-80 ms to build (5 MB of typed arrays for o200k_base, outside the V8
// heap: compact-bpe.ts), so an encoding is loaded on first use only (a gateway whose responses
// carry usage and that has no estimating limit never loads one), synchronously (callers count
// inside request handlers and cannot await). Special-token text such as "<|endoftext|>" inside a
// prompt is ordinary text to the API, and CompactBpe encodes it as such.
function loadEncoding(name: EncodingName): CompactBpe {
  let encoding = loaded.get(name);
  if (encoding === undefined) {
    const patterns = requireCjs('gpt-tokenizer/encodingParams/constants') as SplitPatterns;
    const split = name === 'o200k_base' ? patterns.O200K_TOKEN_SPLIT_REGEX : patterns.CL100K_TOKEN_SPLIT_REGEX;
    encoding = new CompactBpe(readFileSync(requireCjs.resolve(`gpt-tokenizer/data/${name}.tiktoken`)), split);
    loaded.set(name, encoding);
    const bpe = encoding;
    segmentCounters.set(name, (segment) => bpe.count(segment));
    memos.set(name, new CountMemo());
  }
  return encoding;
}

/**
 * Loads now the encodings of these models (undefined: the default encoding), for a gateway whose
 * requests will be counted (a token limit, budgets): building a table takes
 * 40–115 ms of the event loop, which the first such request would otherwise spend while every
 * request in flight waits. Called before the gateway listens; a table already loaded costs nothing.
 */
export function preloadEncodings(models: Iterable<string | undefined>): void {
  for (const model of models) loadEncoding(encodingForModel(model));
}

/** gpt-tokenizer's encoding, for decoding only (the simulator; its tables are in the V8 heap). */
function loadDecoder(name: EncodingName): BpeDecoder {
  let decoder = decoders.get(name);
  if (decoder === undefined) {
    decoder = requireCjs(`gpt-tokenizer/encoding/${name}`) as BpeDecoder;
    decoders.set(name, decoder);
  }
  return decoder;
}

/** The encodings loaded so far (for tests and `/status`-style reports). */
export function loadedEncodings(): EncodingName[] {
  return [...loaded.keys()];
}

/** One count: the encoding (loaded when first needed) and the request's exact-counting budget. */
interface Counter {
  readonly encoding: EncodingName;
  readonly budget: CountBudget;
}

function counter(model: string | undefined, budget: CountBudget = new CountBudget()): Counter {
  return { encoding: encodingForModel(model), budget };
}

function textTokens(text: string, c: Counter): number {
  if (text.length === 0) return 0;
  loadEncoding(c.encoding);
  return countBounded(text, segmentCounters.get(c.encoding) as (segment: string) => number, c.budget, memos.get(c.encoding));
}

const CL100K_PREFIXES = ['gpt-4-', 'gpt-3.5', 'gpt-35', 'text-embedding-'];

/** The last model looked up and its encoding (encodingForModel). */
let lastModel: string | undefined;
let lastEncoding: EncodingName = 'o200k_base';

/**
 * Picks the BPE encoding a model uses. Newer families and unknown names get o200k_base, because an
 * unknown name today is most likely a new model.
 *
 * @example
 * encodingForModel('gpt-4o-mini'); // 'o200k_base'
 * encodingForModel('gpt-4-turbo'); // 'cl100k_base'
 */
export function encodingForModel(model: string | undefined): EncodingName {
  if (model === undefined) return 'o200k_base';
  // A gateway sees few model names, most requests the same one as the last.
  if (model === lastModel) return lastEncoding;
  const encoding = encodingOf(model);
  lastModel = model;
  lastEncoding = encoding;
  return encoding;
}

function encodingOf(model: string): EncodingName {
  const name = model.trim().toLowerCase();
  if (name === 'gpt-4' || name === 'gpt-35-turbo') return 'cl100k_base';
  // gpt-4o / gpt-4.1 / gpt-4.5 do not match 'gpt-4-' so they fall through to o200k.
  if (CL100K_PREFIXES.some((prefix) => name.startsWith(prefix))) return 'cl100k_base';
  return 'o200k_base';
}

/**
 * Number of tokens `text` encodes to for `model` (special-token markup counted as plain text).
 * Work is bounded (see bounded.ts): up to EXACT_BUDGET_CHARS characters are counted exactly,
 * longer text is extrapolated from samples.
 */
export function countTextTokens(text: string, model?: string): number {
  return textTokens(text, counter(model));
}

/** Token ids for `text` under `model`'s encoding, encoded in bounded segments (linear time). */
export function encodeText(text: string, model?: string): number[] {
  const encoding = loadEncoding(encodingForModel(model));
  const ids: number[] = [];
  for (let at = 0; at < text.length; ) {
    const stop = segmentEnd(text, at);
    for (const id of encoding.encode(text.slice(at, stop))) ids.push(id);
    at = stop;
  }
  return ids;
}

/** Text for token ids; ids outside the vocabulary make it fall back to `undefined` instead of throwing. */
export function decodeTokens(tokens: readonly number[], model?: string): string | undefined {
  try {
    return loadDecoder(encodingForModel(model)).decode(tokens);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function countContentPart(part: unknown, c: Counter): number {
  if (typeof part === 'string') return textTokens(part, c);
  if (!isRecord(part)) return 0;
  if (typeof part.text === 'string') return textTokens(part.text, c);
  if (typeof part.refusal === 'string') return textTokens(part.refusal, c);
  const image = part.image_url;
  if (part.type === 'image_url' || image !== undefined) {
    const detail = isRecord(image) ? image.detail : undefined;
    return detail === 'low' ? IMAGE_TOKENS_LOW_DETAIL : IMAGE_TOKENS_HIGH_DETAIL;
  }
  return 0;
}

function countContent(content: unknown, c: Counter): number {
  if (typeof content === 'string') return textTokens(content, c);
  if (!Array.isArray(content)) return 0;
  let total = 0;
  for (const part of content) total += countContentPart(part, c);
  return total;
}

function countFunctionCall(call: unknown, c: Counter): number {
  if (!isRecord(call)) return 0;
  let total = 0;
  if (typeof call.name === 'string') total += textTokens(call.name, c);
  if (typeof call.arguments === 'string') total += textTokens(call.arguments, c);
  return total;
}

function countToolCalls(toolCalls: unknown, c: Counter): number {
  if (!Array.isArray(toolCalls)) return 0;
  let total = 0;
  for (const call of toolCalls) {
    if (isRecord(call)) total += countFunctionCall(call.function, c);
  }
  return total;
}

function countMessage(message: unknown, c: Counter): number {
  if (!isRecord(message)) return TOKENS_PER_MESSAGE;
  let total = TOKENS_PER_MESSAGE;
  // Keys, not Object.entries: no [key, value] array per field of every message.
  for (const key of Object.keys(message)) {
    const value = message[key];
    switch (key) {
      case 'content':
        total += countContent(value, c);
        break;
      case 'tool_calls':
        total += countToolCalls(value, c);
        break;
      case 'function_call':
        total += countFunctionCall(value, c);
        break;
      case 'name':
        total += TOKENS_PER_NAME + (typeof value === 'string' ? textTokens(value, c) : 0);
        break;
      default:
        // The cookbook encodes every string field (role, tool_call_id, ...).
        if (typeof value === 'string') total += textTokens(value, c);
    }
  }
  return total;
}

/**
 * Prompt tokens of a chat `messages` array in OpenAI's cookbook framing: 3 per message, +1 when a
 * message has `name`, +3 reply priming. Never throws: anything that is not a message counts as an
 * empty one, and a non-array counts as no messages.
 *
 * @example
 * countChatPromptTokens([{ role: 'user', content: 'hello world' }], 'gpt-4o'); // 9
 */
export function countChatPromptTokens(messages: unknown, model?: string): number {
  return chatPromptTokens(messages, counter(model));
}

function chatPromptTokens(messages: unknown, c: Counter): number {
  if (!Array.isArray(messages)) return 0;
  let total = REPLY_PRIMING_TOKENS;
  for (const message of messages) total += countMessage(message, c);
  return total;
}

function countTextOrTokens(input: unknown, c: Counter, depth: number): number {
  if (typeof input === 'string') return textTokens(input, c);
  // Only one level of batching exists in the API, so deeper nesting is not counted.
  if (!Array.isArray(input) || depth > 1) return 0;
  // A flat number array is one pre-tokenized prompt; anything else is a batch of prompts.
  if (input.every((item) => typeof item === 'number')) return input.length;
  let total = 0;
  for (const item of input) total += countTextOrTokens(item, c, depth + 1);
  return total;
}

/**
 * Tool definitions, counted with the cookbook's published formula (section 7, which matches the
 * API: 101 tokens for its weather example on gpt-4o, 105 on gpt-4). The constants are the
 * framing tokens OpenAI adds around each function, property and enum; they differ by encoding
 * only for the function header.
 */
const TOOL_FRAMING = {
  o200k_base: { functionInit: 7 },
  cl100k_base: { functionInit: 10 },
} as const;
const TOOL_PROPERTY_INIT = 3;
const TOOL_PROPERTY_KEY = 3;
const TOOL_ENUM_INIT = -3;
const TOOL_ENUM_ITEM = 3;
const TOOL_FUNCTIONS_END = 12;

function withoutFinalPeriod(text: unknown): string {
  const value = typeof text === 'string' ? text : '';
  return value.endsWith('.') ? value.slice(0, -1) : value;
}

function countPropertyDefinitions(properties: Record<string, unknown>, c: Counter): number {
  let total = TOOL_PROPERTY_INIT;
  for (const [key, property] of Object.entries(properties)) {
    total += TOOL_PROPERTY_KEY;
    const definition = isRecord(property) ? property : {};
    if (Array.isArray(definition.enum)) {
      total += TOOL_ENUM_INIT;
      for (const item of definition.enum) {
        total += TOOL_ENUM_ITEM + textTokens(typeof item === 'string' ? item : String(item), c);
      }
    }
    const type = typeof definition.type === 'string' ? definition.type : '';
    total += textTokens(`${key}:${type}:${withoutFinalPeriod(definition.description)}`, c);
  }
  return total;
}

/** `tools` ({type:'function', function}) or the legacy `functions` (the bare function objects). */
function countToolDefinitions(tools: unknown, c: Counter): number {
  if (!Array.isArray(tools) || tools.length === 0) return 0;
  const { functionInit } = TOOL_FRAMING[c.encoding];
  let total = 0;
  for (const tool of tools) {
    if (!isRecord(tool)) continue;
    const fn = isRecord(tool.function) ? tool.function : tool;
    total += functionInit;
    const name = typeof fn.name === 'string' ? fn.name : '';
    total += textTokens(`${name}:${withoutFinalPeriod(fn.description)}`, c);
    const properties = isRecord(fn.parameters) ? fn.parameters.properties : undefined;
    if (isRecord(properties) && Object.keys(properties).length > 0) {
      total += countPropertyDefinitions(properties, c);
    }
  }
  return total + TOOL_FUNCTIONS_END;
}

/**
 * Prompt tokens of a request body: `messages` (+ `tools`/`functions`) for chat, `prompt` for legacy
 * completions, `input` for embeddings. `prompt` and `input` may be a string, a string array, a
 * token array or an array of token arrays. `model` defaults to the body's `model`. Never throws.
 *
 * @example
 * countPromptTokens({ model: 'gpt-4o', prompt: ['a b', [1, 2, 3]] }, 'completions'); // 2 + 3
 */
export function countPromptTokens(body: unknown, operation: PromptOperation, model?: string): number {
  if (!isRecord(body)) return 0;
  // One budget for the whole body: a request of many strings costs no more than one long one.
  const c = counter(model ?? (typeof body.model === 'string' ? body.model : undefined));
  try {
    switch (operation) {
      case 'chat':
        return (
          chatPromptTokens(body.messages, c) +
          countToolDefinitions(body.tools ?? body.functions, c)
        );
      case 'completions':
        return countTextOrTokens(body.prompt, c, 0);
      case 'embeddings':
        return countTextOrTokens(body.input, c, 0);
    }
  } catch {
    // Only reachable through exotic objects (getters that throw); a count of 0 beats a crash.
    return 0;
  }
}
