/**
 * @module
 * `/embeddings` backed by the local lexical embedder: deterministic vectors in OpenAI's response
 * shape, as floats or as base64 (the official openai client asks for base64 by default and
 * decodes it itself).
 */
import { embedText } from '../embedder/index.ts';
import { countPromptTokens, decodeTokens } from '../tokenizer/index.ts';
import { invalidParam } from './errors.ts';
import { resolveModel } from './completion-plan.ts';

/** OpenAI's limit on inputs per request. */
const MAX_INPUTS = 2048;

export interface EmbeddingPlan {
  model: string;
  texts: string[];
  dimensions: number;
  format: 'float' | 'base64';
  promptTokens: number;
}

function nativeDimensions(model: string): number {
  return model.toLowerCase().includes('3-large') ? 3072 : 1536;
}

function isTokenArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((item) => Number.isInteger(item));
}

function inputText(input: unknown, model: string): string | undefined {
  if (typeof input === 'string') return input.length > 0 ? input : undefined;
  if (!isTokenArray(input)) return undefined;
  // Ids outside the vocabulary still embed deterministically, as their decimal spelling.
  return decodeTokens(input, model) ?? input.join(' ');
}

function splitInputs(input: unknown, model: string): string[] {
  const items = typeof input === 'string' || isTokenArray(input) ? [input] : input;
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_INPUTS) {
    throw invalidParam('input', `'input' must be a non-empty string, token array, or an array of up to ${MAX_INPUTS} of them`);
  }
  return items.map((item, index) => {
    const text = inputText(item, model);
    if (text === undefined) {
      throw invalidParam('input', `'input[${index}]' must be a non-empty string or token array`);
    }
    return text;
  });
}

function resolveDimensions(body: Record<string, unknown>, model: string): number {
  const native = nativeDimensions(model);
  const requested = body.dimensions;
  if (requested === undefined || requested === null) return native;
  if (model.toLowerCase().includes('ada-002')) {
    throw invalidParam('dimensions', 'This model does not support specifying dimensions.');
  }
  if (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 1 || requested > native) {
    throw invalidParam('dimensions', `'dimensions' must be an integer from 1 to ${native} for ${model}`);
  }
  return requested;
}

function resolveFormat(body: Record<string, unknown>): 'float' | 'base64' {
  const format = body.encoding_format;
  if (format === undefined || format === null || format === 'float') return 'float';
  if (format === 'base64') return 'base64';
  throw invalidParam('encoding_format', "'encoding_format' must be 'float' or 'base64'");
}

/** Validates an embeddings body; throws 400s on bad input. */
export function planEmbeddings(body: Record<string, unknown>, deployment: string | undefined): EmbeddingPlan {
  const model = resolveModel(body, deployment);
  return {
    model,
    texts: splitInputs(body.input, model),
    dimensions: resolveDimensions(body, model),
    format: resolveFormat(body),
    promptTokens: countPromptTokens(body, 'embeddings', model),
  };
}

/** Little-endian float32 bytes, what OpenAI's `encoding_format: 'base64'` carries. */
function toBase64(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i] ?? 0, i * 4);
  return bytes.toString('base64');
}

export function embeddingsBody(plan: EmbeddingPlan): object {
  return {
    object: 'list',
    data: plan.texts.map((text, index) => {
      const vector = embedText(text, plan.dimensions);
      return {
        object: 'embedding',
        index,
        embedding: plan.format === 'base64' ? toBase64(vector) : Array.from(vector),
      };
    }),
    model: plan.model,
    usage: { prompt_tokens: plan.promptTokens, total_tokens: plan.promptTokens },
  };
}
