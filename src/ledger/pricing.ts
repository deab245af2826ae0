/**
 * Cost of a request in USD from its token counts and the model's price (USD per 1M tokens):
 * `(prompt − cached) × input + cached × cachedInput + completion × output`. Prices come from the
 * shipped table (default-prices.ts) overridden by the configuration's `pricing:`. A model name
 * matches a price exactly, or by its longest priced prefix followed by `-` (a backend reports
 * `gpt-4o-2024-08-06`, priced as `gpt-4o`; `gpt-4o-mini-2024-07-18` as `gpt-4o-mini`). An unknown
 * model costs 0, with one warning per model (bounded).
 * @module
 */
import { DEFAULT_PRICES } from './default-prices.ts';

export interface ModelPrice {
  /** USD per 1M input (prompt) tokens. */
  readonly input: number;
  /** USD per 1M output (completion) tokens. */
  readonly output: number;
  /** USD per 1M cached input tokens; the input price when absent. */
  readonly cachedInput?: number | undefined;
}

export interface CostInput {
  readonly model: string | null;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cachedTokens: number;
}

/** Lookups remembered (model names come from backends: bounded so a backend cannot grow it). */
const MAX_REMEMBERED = 1024;

export class Pricing {
  readonly #prices: ReadonlyMap<string, ModelPrice>;
  readonly #resolved = new Map<string, ModelPrice | null>();
  readonly #onUnknown: (model: string) => void;
  readonly #warned = new Set<string>();

  constructor(overrides: Readonly<Record<string, ModelPrice>>, onUnknown: (model: string) => void) {
    this.#prices = new Map(Object.entries({ ...DEFAULT_PRICES, ...overrides }));
    this.#onUnknown = onUnknown;
  }

  /** The price of `model`, or null when neither it nor a prefix of it is priced. */
  priceOf(model: string): ModelPrice | null {
    const hit = this.#resolved.get(model);
    if (hit !== undefined) return hit;
    let price = this.#prices.get(model) ?? null;
    if (price === null) {
      let best = '';
      for (const [name, p] of this.#prices) {
        if (name.length > best.length && model.startsWith(`${name}-`)) {
          best = name;
          price = p;
        }
      }
    }
    if (this.#resolved.size >= MAX_REMEMBERED) this.#resolved.clear();
    this.#resolved.set(model, price);
    return price;
  }

  /** USD for these counts; 0 (and a warning once per model) when the model has no price. */
  cost(input: CostInput): number {
    if (input.model === null) return 0;
    const price = this.priceOf(input.model);
    if (price === null) {
      if (input.promptTokens + input.completionTokens > 0 && this.#warned.size < MAX_REMEMBERED && !this.#warned.has(input.model)) {
        this.#warned.add(input.model);
        this.#onUnknown(input.model);
      }
      return 0;
    }
    const cached = Math.min(input.cachedTokens, input.promptTokens);
    const usd = ((input.promptTokens - cached) * price.input + cached * (price.cachedInput ?? price.input) + input.completionTokens * price.output) / 1_000_000;
    // Rounded to 1e-10 USD: sums of many rows stay free of float noise at the precision shown.
    return Math.round(usd * 1e10) / 1e10;
  }
}
