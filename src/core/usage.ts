/**
 * The one typed usage record per request, and the bus that hands it to consumers
 * (debug log now; token limits, metrics, ledger and cost later).
 * Translators report usage; policies enforce it (STYLE §6.6).
 * @module
 */
import { containsSecret, redactSecrets } from '../secrets/redactor.ts';

/** Where the token counts came from: the backend's own report, a local count, or nothing. */
export type UsageSource = 'backend' | 'estimated' | 'none';

export interface Usage {
  /** The gateway's request id: unique per request, whatever the client sent. */
  readonly requestId: string;
  /** The client's own `x-request-id` (correlation only; not unique, not trusted). */
  readonly clientRequestId: string | null;
  readonly timestamp: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  readonly cachedTokens: number;
  readonly reasoningTokens: number;
  readonly source: UsageSource;
  /** Model the backend reported (falls back to the requested one). */
  readonly model: string | null;
  readonly deployment: string | null;
  readonly backend: string | null;
  readonly subscription: string | null;
  readonly product: string | null;
  readonly api: string | null;
  readonly operation: string | null;
  /** Client-visible status; 499 when the client went away first. */
  readonly status: number;
  readonly streamed: boolean;
  readonly latencyMs: number;
  /** Time to the first response byte from the backend, when there was one. */
  readonly timeToFirstByteMs: number | null;
  /** Set when the request ended in an error (gateway code or backend failure). */
  readonly errorCode: string | null;
  /** A semantic or response cache lookup ran: `hit` (no backend was called) or `miss`. */
  readonly cache: 'hit' | 'miss' | null;
  /** Similarity of the semantic cache's nearest entry, when there was one. */
  readonly cacheScore: number | null;
  /** Tokens of the semantic cache's embeddings call (metered apart from the chat tokens). */
  readonly embeddingTokens: number;
}

/** Token counts as the OpenAI and Responses APIs name them; both shapes are normalised here. */
export interface TokenCounts {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
}

/**
 * Normalises an OpenAI `usage` object (chat/completions/embeddings: prompt_/completion_tokens;
 * Responses API: input_/output_tokens). Returns undefined when it is not a usage object.
 */
export function normaliseUsage(raw: unknown): TokenCounts | undefined {
  const u = obj(raw);
  if (!u) return undefined;
  const prompt = num(u['prompt_tokens'] ?? u['input_tokens']);
  const completion = num(u['completion_tokens'] ?? u['output_tokens']);
  const hasAny = 'prompt_tokens' in u || 'input_tokens' in u || 'total_tokens' in u;
  if (!hasAny) return undefined;
  const total = num(u['total_tokens']) || prompt + completion;
  const promptDetails = obj(u['prompt_tokens_details'] ?? u['input_tokens_details']);
  const completionDetails = obj(u['completion_tokens_details'] ?? u['output_tokens_details']);
  return {
    promptTokens: prompt,
    completionTokens: completion,
    totalTokens: total,
    cachedTokens: num(promptDetails?.['cached_tokens']),
    reasoningTokens: num(completionDetails?.['reasoning_tokens']),
  };
}

export type UsageConsumer = (usage: Usage) => void;

/**
 * Fan-out to consumers. A consumer that throws must not break the others or the request:
 * the error goes to `onConsumerError` (the logger), never to the client.
 */
export class UsageBus {
  readonly #consumers: { readonly take: UsageConsumer; readonly when: (() => boolean) | undefined }[] = [];
  readonly #onConsumerError: (err: unknown) => void;

  constructor(onConsumerError: (err: unknown) => void) {
    this.#onConsumerError = onConsumerError;
  }

  /**
   * `when`, if given, says whether the consumer takes records at the moment (the debug log: only
   * at level debug); when no consumer does, the gateway does not build the record at all.
   */
  subscribe(consumer: UsageConsumer, when?: () => boolean): () => void {
    const entry = { take: consumer, when };
    this.#consumers.push(entry);
    return () => {
      const i = this.#consumers.indexOf(entry);
      if (i >= 0) this.#consumers.splice(i, 1);
    };
  }

  /** True when some consumer would take a record now. */
  get wanted(): boolean {
    for (const c of this.#consumers) if (c.when === undefined || c.when()) return true;
    return false;
  }

  publish(usage: Usage): void {
    if (this.#consumers.length === 0) return;
    const record = withoutSecrets(usage);
    for (const consumer of this.#consumers) {
      try {
        if (consumer.when === undefined || consumer.when()) consumer.take(record);
      } catch (err) {
        this.#onConsumerError(err);
      }
    }
  }
}

/**
 * The usage record as consumers (ledger, loggers) may keep it: its free-text fields (the model a
 * backend reported, the client's correlation id and deployment) pass the secret redactor, like
 * every other output (the request id is the gateway's own UUID). One prefilter scan per field
 * when no secret is present.
 */
function withoutSecrets(usage: Usage): Usage {
  const { clientRequestId, model, deployment } = usage;
  const clean = (v: string | null): boolean => v === null || !containsSecret(v);
  if (clean(clientRequestId) && clean(model) && clean(deployment)) return usage;
  const scrub = (v: string | null): string | null => (v === null ? null : redactSecrets(v));
  return { ...usage, clientRequestId: scrub(clientRequestId), model: scrub(model), deployment: scrub(deployment) };
}
