/**
 * @module
 * OpenAI response and stream-chunk shapes for chat and legacy completions, field for field as
 * the API returns them, so clients that validate shapes (the official SDKs) accept them.
 */
import { randomBytes } from 'node:crypto';
import type { CompletionPlan, FinishReason } from './completion-plan.ts';

export const SYSTEM_FINGERPRINT = 'fp_tollgate_sim';

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

/** Identity shared by every chunk of one response, as OpenAI repeats it in each chunk. */
export interface ResponseIdentity {
  id: string;
  created: number;
  model: string;
}

export function newResponseIdentity(plan: CompletionPlan, nowMs: number): ResponseIdentity {
  const prefix = plan.kind === 'chat' ? 'chatcmpl-' : 'cmpl-';
  return {
    id: prefix + randomBytes(15).toString('base64url'),
    created: Math.floor(nowMs / 1000),
    model: plan.model,
  };
}

export function usageOf(plan: CompletionPlan): CompletionUsage {
  return {
    prompt_tokens: plan.promptTokens,
    completion_tokens: plan.completionTokens,
    total_tokens: plan.promptTokens + plan.completionTokens,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

/** The non-streaming reply; `texts[i]` is choice i's full text. */
export function completionBody(plan: CompletionPlan, identity: ResponseIdentity, texts: readonly string[]): object {
  if (plan.kind === 'chat') {
    return {
      id: identity.id,
      object: 'chat.completion',
      created: identity.created,
      model: identity.model,
      choices: texts.map((content, index) => ({
        index,
        message: { role: 'assistant', content, refusal: null },
        logprobs: null,
        finish_reason: plan.finishReason,
      })),
      usage: usageOf(plan),
      system_fingerprint: SYSTEM_FINGERPRINT,
    };
  }
  return {
    id: identity.id,
    object: 'text_completion',
    created: identity.created,
    model: identity.model,
    choices: texts.map((text, index) => ({ text, index, logprobs: null, finish_reason: plan.finishReason })),
    usage: usageOf(plan),
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

/** What one chunk carries for one choice. */
export type ChunkPart =
  | { type: 'role' }
  | { type: 'content'; text: string }
  | { type: 'finish'; reason: FinishReason };

function chatChoice(index: number, part: ChunkPart): object {
  switch (part.type) {
    case 'role':
      return { index, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null };
    case 'content':
      return { index, delta: { content: part.text }, logprobs: null, finish_reason: null };
    case 'finish':
      return { index, delta: {}, logprobs: null, finish_reason: part.reason };
  }
}

function legacyChoice(index: number, part: ChunkPart): object {
  switch (part.type) {
    case 'role':
      // Legacy completions have no role; a role part is never planned for them.
      return { text: '', index, logprobs: null, finish_reason: null };
    case 'content':
      return { text: part.text, index, logprobs: null, finish_reason: null };
    case 'finish':
      return { text: '', index, logprobs: null, finish_reason: part.reason };
  }
}

/**
 * One SSE chunk for one choice. With `include_usage`, OpenAI adds `"usage": null` to every chunk
 * before the final usage chunk; clients use its presence to know a usage chunk will follow.
 */
export function chunkBody(plan: CompletionPlan, identity: ResponseIdentity, index: number, part: ChunkPart): object {
  const base =
    plan.kind === 'chat'
      ? {
          id: identity.id,
          object: 'chat.completion.chunk',
          created: identity.created,
          model: identity.model,
          system_fingerprint: SYSTEM_FINGERPRINT,
          choices: [chatChoice(index, part)],
        }
      : {
          id: identity.id,
          object: 'text_completion',
          created: identity.created,
          model: identity.model,
          system_fingerprint: SYSTEM_FINGERPRINT,
          choices: [legacyChoice(index, part)],
        };
  return plan.includeUsage ? { ...base, usage: null } : base;
}

/** The trailing `choices: []` chunk sent only when `stream_options.include_usage` is true. */
export function usageChunkBody(plan: CompletionPlan, identity: ResponseIdentity): object {
  return {
    id: identity.id,
    object: plan.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion',
    created: identity.created,
    model: identity.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [],
    usage: usageOf(plan),
  };
}
