/**
 * @module
 * Turns a chat or legacy completions request into a plan: how many choices, how many tokens
 * each, which words, what usage. Everything the reply contains is fixed here, before admission,
 * so the rate limiter can charge exactly what the reply will cost.
 */
import { countPromptTokens } from '../tokenizer/index.ts';
import { invalidParam } from './errors.ts';
import { MAX_COMPLETION_TOKENS } from './controls.ts';
import { hashString, mix32 } from './random.ts';

export type FinishReason = 'length' | 'stop';

export interface CompletionPlan {
  kind: 'chat' | 'completions';
  model: string;
  stream: boolean;
  includeUsage: boolean;
  /** One seed per choice; the choice's words are `generateTokens(seed, tokensPerChoice)`. */
  choiceSeeds: number[];
  tokensPerChoice: number;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  /** What admission charges against TPM: prompt + requested completion tokens for every choice. */
  admissionTokens: number;
}

export interface PlanSettings {
  defaultCompletionTokens: number;
  seed: number;
  /** From `x-sim-completion-tokens`. */
  completionTokensOverride: number | undefined;
}

/** OpenAI's own ceiling for `n`. */
const MAX_N = 128;
const MAX_PROMPTS = 2048;
const MAX_CHOICES = 128;
/** Caps the words one request can make the simulator generate (choices x tokens). */
const MAX_GENERATED_TOKENS = 1_000_000;

function optionalPositiveInt(body: Record<string, unknown>, field: string, max: number): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalidParam(field, `'${field}' must be an integer from 1 to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function optionalBoolean(body: Record<string, unknown>, field: string): boolean {
  const value = body[field];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw invalidParam(field, `'${field}' must be a boolean`);
  return value;
}

/** Resolves the model: the Azure deployment in the path wins over the body's `model`. */
export function resolveModel(body: Record<string, unknown>, deployment: string | undefined): string {
  if (deployment !== undefined) return deployment;
  const model = body.model;
  if (typeof model !== 'string' || model.trim() === '') {
    throw invalidParam('model', "you must provide a model parameter");
  }
  return model;
}

function isTokenArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'number');
}

/** Legacy `prompt`: a string, string[], token array or token arrays; one entry per prompt. */
function splitPrompts(prompt: unknown): unknown[] {
  if (typeof prompt === 'string' || isTokenArray(prompt)) return [prompt];
  if (Array.isArray(prompt) && prompt.length > 0 && prompt.length <= MAX_PROMPTS) {
    if (prompt.every((item) => typeof item === 'string' || isTokenArray(item))) return prompt;
  }
  throw invalidParam(
    'prompt',
    `'prompt' must be a string, an array of up to ${MAX_PROMPTS} strings, a token array or an array of token arrays`,
  );
}

function requestSeed(body: Record<string, unknown>, seed: number): number {
  const bodySeed = body.seed;
  const extra = typeof bodySeed === 'number' && Number.isSafeInteger(bodySeed) ? bodySeed : 0;
  return mix32(seed ^ mix32(extra));
}

/**
 * Reply length: header override, else `max_completion_tokens ?? max_tokens`, else the default;
 * never more than the request's max. Hitting the max reports `length`, ending earlier `stop`.
 */
function replyLength(
  body: Record<string, unknown>,
  settings: PlanSettings,
): { tokens: number; finishReason: FinishReason; requested: number } {
  const maxCompletion = optionalPositiveInt(body, 'max_completion_tokens', Number.MAX_SAFE_INTEGER);
  const maxTokens = optionalPositiveInt(body, 'max_tokens', Number.MAX_SAFE_INTEGER);
  const requestedMax = maxCompletion ?? maxTokens;
  const limit = requestedMax === undefined ? undefined : Math.min(requestedMax, MAX_COMPLETION_TOKENS);
  const wanted = settings.completionTokensOverride ?? limit ?? settings.defaultCompletionTokens;
  const tokens = limit === undefined ? wanted : Math.min(wanted, limit);
  const finishReason: FinishReason = limit !== undefined && tokens >= limit ? 'length' : 'stop';
  return { tokens, finishReason, requested: limit ?? tokens };
}

/** Validates a chat or legacy completions body and fixes the reply; throws 400s on bad input. */
export function planCompletion(
  kind: 'chat' | 'completions',
  body: Record<string, unknown>,
  deployment: string | undefined,
  settings: PlanSettings,
): CompletionPlan {
  const model = resolveModel(body, deployment);
  const n = optionalPositiveInt(body, 'n', MAX_N) ?? 1;
  const stream = optionalBoolean(body, 'stream');
  const streamOptions = body.stream_options;
  const includeUsage =
    stream && typeof streamOptions === 'object' && streamOptions !== null &&
    (streamOptions as Record<string, unknown>).include_usage === true;

  let promptKeys: string[];
  if (kind === 'chat') {
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      throw invalidParam('messages', "'messages' must be a non-empty array");
    }
    promptKeys = [JSON.stringify(body.messages)];
  } else {
    promptKeys = splitPrompts(body.prompt).map((prompt) => JSON.stringify(prompt));
  }
  const choiceCount = promptKeys.length * n;
  if (choiceCount > MAX_CHOICES) {
    throw invalidParam('n', `prompts x n must be at most ${MAX_CHOICES}, got ${choiceCount}`);
  }

  const length = replyLength(body, settings);
  if (choiceCount * length.tokens > MAX_GENERATED_TOKENS) {
    throw invalidParam('n', `the simulator generates at most ${MAX_GENERATED_TOKENS} tokens per request`);
  }
  const seed = requestSeed(body, settings.seed);
  const choiceSeeds: number[] = [];
  for (const key of promptKeys) {
    const promptHash = hashString(key, seed);
    for (let i = 0; i < n; i++) choiceSeeds.push(mix32(promptHash + i));
  }

  const promptTokens = countPromptTokens(body, kind, model);
  const completionTokens = choiceCount * length.tokens;
  return {
    kind,
    model,
    stream,
    includeUsage,
    choiceSeeds,
    tokensPerChoice: length.tokens,
    finishReason: length.finishReason,
    promptTokens,
    completionTokens,
    admissionTokens: promptTokens + choiceCount * length.requested,
  };
}
