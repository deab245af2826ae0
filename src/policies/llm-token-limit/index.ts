/**
 * `llm-token-limit` / `azure-openai-token-limit`: tokens per minute (sliding 60 s window in 1 s
 * buckets) and token quotas (fixed UTC calendar windows) per counter key, reserve-then-settle:
 * before forwarding, the estimate is reserved (prompt tokens counted with the tokenizer, plus
 * `max_tokens`/`max_completion_tokens`) when `estimate-prompt-tokens` is true or the request
 * streams; otherwise nothing is reserved and the request is refused only once the window is used
 * up. When the request ends, the reservation is replaced by the real usage (the backend's report;
 * on a cut stream the tokens actually sent; nothing for a failed request).
 * @module
 */
import type { RequestContext } from '../../core/context.ts';
import { GatewayError } from '../../core/errors.ts';
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import type { Dyn } from '../../policy-docs/values.ts';
import { countPromptTokens } from '../../tokenizer/index.ts';
import { admissionOf } from '../../limits/admission.ts';
import { headerNameAttr, variableNameAttr } from '../../limits/attrs.ts';
import { retryAfterSeconds, setHeader, setVariable } from '../../limits/claim-output.ts';
import { calendarWindow, slidingWindow, timeSpanText } from '../../limits/windows.ts';
import type { CounterRequest, CounterState } from '../../state/limit-store.ts';
import type { LimitClaim } from '../../limits/admission.ts';

const PERIODS = ['Hourly', 'Daily', 'Weekly', 'Monthly', 'Yearly'] as const;

/**
 * What a request may cost before it is forwarded: its prompt counted with the tokenizer, and at
 * most `max_tokens` (or `max_completion_tokens`, `max_output_tokens`) per choice. Budgets price
 * the two parts apart.
 */
export function estimateTokenParts(ctx: RequestContext): { prompt: number; completion: number } {
  const json = ctx.request.json;
  if (json === null) return { prompt: 0, completion: 0 };
  const kind = ctx.metering?.usage;
  const op = kind === 'chat' || kind === 'responses' ? 'chat' : kind === 'completions' ? 'completions' : kind === 'embeddings' ? 'embeddings' : null;
  const prompt = op === null ? 0 : countPromptTokens(json, op, ctx.deployment ?? undefined);
  const max = json['max_completion_tokens'] ?? json['max_tokens'] ?? json['max_output_tokens'];
  const n = typeof json['n'] === 'number' && json['n'] > 1 ? json['n'] : 1;
  return { prompt, completion: typeof max === 'number' && max > 0 ? Math.min(max, 1_000_000) * n : 0 };
}

/** Tokens to reserve for this request before it is forwarded. */
export function estimateTokens(ctx: RequestContext): number {
  const parts = estimateTokenParts(ctx);
  return parts.prompt + parts.completion;
}

/** What the request really cost, in tokens, once it is over. */
export function actualTokens(ctx: RequestContext): number {
  return ctx.tokens === null || ctx.tokenSource === 'none' ? 0 : ctx.tokens.totalTokens;
}

export const llmTokenLimitDefinition: PolicyDefinition = {
  names: ['llm-token-limit', 'azure-openai-token-limit'],
  sections: ['inbound'],
  compile(r, _scope, env) {
    r.children([]);
    r.noText();
    const counterKey = r.string('counter-key', true);
    const tpm = r.int('tokens-per-minute', { min: 1, max: 1_000_000_000 });
    const quota = r.int('token-quota', { min: 1, max: Number.MAX_SAFE_INTEGER });
    const period = r.oneOf('token-quota-period', PERIODS);
    if (tpm === undefined && quota === undefined) throw r.fail(null, 'needs tokens-per-minute, token-quota, or both');
    if ((quota === undefined) !== (period === undefined)) throw r.fail(null, 'token-quota and token-quota-period go together');
    const estimate = r.bool('estimate-prompt-tokens', false) as Dyn<boolean>;
    // Every streamed request reserves its counted prompt (below), and with estimate-prompt-tokens every request.
    if (env.services.tokenizerDemand !== undefined) env.services.tokenizerDemand.estimates = true;
    const out = {
      retryHeader: headerNameAttr(r, env, 'retry-after-header-name', 'Retry-After'),
      retryVar: variableNameAttr(r, 'retry-after-variable-name'),
      remainingHeader: headerNameAttr(r, env, 'remaining-tokens-header-name'),
      remainingVar: variableNameAttr(r, 'remaining-tokens-variable-name'),
      quotaHeader: headerNameAttr(r, env, 'remaining-quota-tokens-header-name'),
      quotaVar: variableNameAttr(r, 'remaining-quota-tokens-variable-name'),
      consumedHeader: headerNameAttr(r, env, 'tokens-consumed-header-name'),
      consumedVar: variableNameAttr(r, 'tokens-consumed-variable-name'),
    };
    const { limits, clock } = env.services;
    return {
      name: r.el.name,
      run(ctx) {
        if (ctx.preflight) return;
        const key = counterKey(ctx);
        const reserve = estimate(ctx) || ctx.streaming ? estimateTokens(ctx) : 0;
        const counters: CounterRequest[] = [];
        const t = clock();
        if (tpm !== undefined) counters.push({ key: `tpm:{${key}}`, window: slidingWindow(60), limit: tpm(ctx), cost: reserve });
        if (quota !== undefined && period !== undefined) counters.push({ key: `tq:${period}:{${key}}`, window: calendarWindow(period, t), limit: quota(ctx), cost: reserve });
        const tpmIndex = tpm === undefined ? -1 : 0;
        admissionOf(ctx, limits, clock).add(new TokenClaim(counters, reserve, tpmIndex, out));
      },
    };
  },
};

/** Where a limit policy's headers and variables go (names checked at load). */
interface ClaimOutputs {
  readonly retryHeader: string | undefined;
  readonly retryVar: string | undefined;
  readonly remainingHeader: string | undefined;
  readonly remainingVar: string | undefined;
  readonly quotaHeader: string | undefined;
  readonly quotaVar: string | undefined;
  readonly consumedHeader: string | undefined;
  readonly consumedVar: string | undefined;
}

/** One request's claim: an object with methods rather than three closures per request. */
class TokenClaim implements LimitClaim {
  readonly counters: readonly CounterRequest[];
  readonly #reserve: number;
  readonly #tpmIndex: number;
  readonly #out: ClaimOutputs;

  constructor(counters: readonly CounterRequest[], reserve: number, tpmIndex: number, out: ClaimOutputs) {
    this.counters = counters;
    this.#reserve = reserve;
    this.#tpmIndex = tpmIndex;
    this.#out = out;
  }

  admitted(c: RequestContext, states: readonly CounterState[]): void {
    const out = this.#out;
    const tpmIndex = this.#tpmIndex;
    if (tpmIndex === 0) {
      const s = states[0];
      setHeader(c, out.remainingHeader, s?.remaining ?? 0);
      setVariable(c, out.remainingVar, s?.remaining ?? 0);
    }
    const q = states[tpmIndex + 1];
    if (q !== undefined) {
      setHeader(c, out.quotaHeader, q.remaining);
      setVariable(c, out.quotaVar, q.remaining);
    }
    setVariable(c, out.consumedVar, this.#reserve);
    if (out.consumedHeader !== undefined || out.consumedVar !== undefined) {
      c.beforeRespond.push((done) => {
        // Known before the headers only for a held answer; a stream's count comes at its end.
        if (done.tokens === null || done.response?.body.kind === 'stream') return;
        setHeader(done, out.consumedHeader, done.tokens.totalTokens);
        setVariable(done, out.consumedVar, done.tokens.totalTokens);
      });
    }
  }

  refused(c: RequestContext, index: number, state: CounterState): GatewayError {
    const out = this.#out;
    const seconds = retryAfterSeconds(state.retryAfterMs);
    const headers: Record<string, string> = {};
    if (out.retryHeader !== undefined) headers[out.retryHeader] = String(seconds);
    setVariable(c, out.retryVar, seconds);
    const isTpm = index === this.#tpmIndex;
    if (isTpm && out.remainingHeader !== undefined) headers[out.remainingHeader] = '0';
    if (!isTpm && out.quotaHeader !== undefined) headers[out.quotaHeader] = '0';
    return isTpm
      ? new GatewayError('GW_ERR_TOKEN_LIMIT', `Token limit is exceeded. Try again in ${seconds} seconds.`, { headers })
      : new GatewayError('GW_ERR_TOKEN_QUOTA', `Token quota is exceeded. Try again in ${timeSpanText(state.retryAfterMs)}.`, { headers });
  }

  actual(c: RequestContext): readonly number[] {
    const used = actualTokens(c);
    return this.counters.length === 1 ? [used] : this.counters.map(() => used);
  }
}
