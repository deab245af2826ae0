/**
 * Budgets: `budget: { usd, period }` on a product or a subscription caps what its requests cost
 * per UTC calendar period. Enforced like the token quota, reserve-then-settle on the limit store
 * (in memory, or Redis shared by every replica), in the same one store call as the request's
 * limit policies: before the backend is called the estimated cost is reserved (the prompt counted
 * with the tokenizer plus `max_tokens`, priced; at least one micro-dollar, so a spent budget
 * refuses every request), and when the request ends the reservation is replaced by its real cost.
 * A request that would not fit gets 403 `GW_ERR_BUDGET_EXCEEDED` saying when the budget resets.
 * Amounts are counted in micro-dollars (integers, as the Redis counters need).
 * @module
 */
import type { Config, BudgetConfig } from '../config/schema.ts';
import type { RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import { admissionOf } from '../limits/admission.ts';
import { calendarWindow, type QuotaPeriod } from '../limits/windows.ts';
import { estimateTokenParts } from '../policies/llm-token-limit/index.ts';
import type { CounterRequest, LimitStore } from '../state/limit-store.ts';
import type { Pricing } from './pricing.ts';

const MICRO = 1_000_000;

const PERIOD: Record<BudgetConfig['period'], QuotaPeriod> = { hourly: 'Hourly', daily: 'Daily', weekly: 'Weekly', monthly: 'Monthly', yearly: 'Yearly' };

interface BudgetPlan {
  readonly products: ReadonlyMap<string, BudgetConfig>;
  readonly subscriptions: ReadonlyMap<string, BudgetConfig>;
}

/** The budgets of a configuration, built once per configuration object (reloads make a new one). */
const plans = new WeakMap<Config, BudgetPlan | null>();

function planOf(config: Config): BudgetPlan | null {
  let plan = plans.get(config);
  if (plan !== undefined) return plan;
  const products = new Map(Object.entries(config.products).flatMap(([id, p]) => (p.budget === undefined ? [] : [[id, p.budget] as const])));
  const subscriptions = new Map(Object.entries(config.subscriptions).flatMap(([id, s]) => (s.budget === undefined ? [] : [[id, s.budget] as const])));
  plan = products.size + subscriptions.size === 0 ? null : { products, subscriptions };
  plans.set(config, plan);
  return plan;
}

interface Scope {
  readonly kind: 'subscription' | 'product';
  readonly id: string;
  readonly budget: BudgetConfig;
  readonly endMs: number;
}

export class BudgetGate {
  readonly #store: LimitStore;
  readonly #pricing: Pricing;
  readonly #clock: () => number;

  constructor(store: LimitStore, pricing: Pricing, clock: () => number) {
    this.#store = store;
    this.#pricing = pricing;
    this.#clock = clock;
  }

  /** Adds the request's budget counters to its admission batch (nothing when no budget applies). */
  claim(ctx: RequestContext, config: Config): void {
    const plan = planOf(config);
    if (plan === null) return;
    const subId = ctx.subscription?.id;
    const productId = ctx.productId;
    const sub = subId === undefined ? undefined : plan.subscriptions.get(subId);
    const product = productId === null ? undefined : plan.products.get(productId);
    if (sub === undefined && product === undefined) return;
    const now = this.#clock();
    const parts = estimateTokenParts(ctx);
    const model = ctx.deployment;
    const estimate = this.#pricing.cost({ model, promptTokens: parts.prompt, completionTokens: parts.completion, cachedTokens: 0 });
    const cost = Math.max(1, Math.ceil(estimate * MICRO));
    const scopes: Scope[] = [];
    const counters: CounterRequest[] = [];
    const add = (kind: Scope['kind'], id: string, budget: BudgetConfig): void => {
      const window = calendarWindow(PERIOD[budget.period], now);
      if (window.kind !== 'fixed') return;
      scopes.push({ kind, id, budget, endMs: window.endMs });
      counters.push({ key: `budget:${kind === 'subscription' ? 's' : 'p'}:${budget.period}:{${id}}`, window, limit: Math.round(budget.usd * MICRO), cost });
    };
    if (sub !== undefined && subId !== undefined) add('subscription', subId, sub);
    if (product !== undefined && productId !== null) add('product', productId, product);
    const pricing = this.#pricing;
    const clock = this.#clock;
    admissionOf(ctx, this.#store, this.#clock).add({
      counters,
      admitted() {},
      refused(_c, index) {
        const s = scopes[index] as Scope;
        const resets = new Date(s.endMs).toISOString();
        const seconds = Math.max(1, Math.ceil((s.endMs - clock()) / 1000));
        return new GatewayError(
          'GW_ERR_BUDGET_EXCEEDED',
          `The ${s.budget.period} budget of ${s.kind} "${s.id}" (${s.budget.usd} USD) is spent; it resets at ${resets}.`,
          { headers: { 'retry-after': String(seconds), 'x-budget-reset': resets } },
        );
      },
      actual(c) {
        const usd = realCost(c, pricing);
        const micro = Math.ceil(usd * MICRO);
        return counters.map(() => micro);
      },
    });
  }
}

/** What the request really cost (the ledger prices the same counts): 0 for a cached answer. */
function realCost(ctx: RequestContext, pricing: Pricing): number {
  const t = ctx.tokens;
  if (t === null || ctx.tokenSource === 'none' || ctx.cache?.result === 'hit') return 0;
  return pricing.cost({ model: ctx.responseModel ?? ctx.deployment, promptTokens: t.promptTokens, completionTokens: t.completionTokens, cachedTokens: t.cachedTokens });
}
