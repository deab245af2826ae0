/**
 * The shipped price table: USD per 1 million tokens (input, output, cached input) for common
 * OpenAI / Azure OpenAI models, at OpenAI's Standard tier, which Azure OpenAI charges for the same
 * models on Global Standard deployments (Data Zone and regional deployments cost about 10 % more;
 * Batch, Flex, Priority and provisioned (PTU) deployments are billed differently). Models with a
 * long-context tariff (gpt-5.5 above 272k prompt tokens) are listed at their short-context rates.
 *
 * Every entry was checked on {@link DEFAULT_PRICES_DATE} against the public sources that
 * docs/metering.md#cost lists (no entry changed; the gpt-5.1 to gpt-5.5 rows were added). Prices
 * change, so operators override or extend this table with `pricing:` in the configuration.
 * @module
 */
import type { ModelPrice } from './pricing.ts';

export const DEFAULT_PRICES_DATE = '2026-12-03';

/** Model name (as a backend reports it, without a version suffix) → price. */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  'gpt-5.5': { input: 5, output: 30, cachedInput: 0.5 },
  'gpt-5.4': { input: 2.5, output: 15, cachedInput: 0.25 },
  'gpt-5.4-mini': { input: 0.75, output: 4.5, cachedInput: 0.075 },
  'gpt-5.4-nano': { input: 0.2, output: 1.25, cachedInput: 0.02 },
  'gpt-5.2': { input: 1.75, output: 14, cachedInput: 0.175 },
  'gpt-5.1': { input: 1.25, output: 10, cachedInput: 0.125 },
  'gpt-5': { input: 1.25, output: 10, cachedInput: 0.125 },
  'gpt-5-mini': { input: 0.25, output: 2, cachedInput: 0.025 },
  'gpt-5-nano': { input: 0.05, output: 0.4, cachedInput: 0.005 },
  'gpt-4.1': { input: 2, output: 8, cachedInput: 0.5 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cachedInput: 0.1 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'gpt-4o': { input: 2.5, output: 10, cachedInput: 1.25 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cachedInput: 0.075 },
  'gpt-4-turbo': { input: 10, output: 30 },
  'gpt-4': { input: 30, output: 60 },
  'gpt-35-turbo': { input: 0.5, output: 1.5 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
  o1: { input: 15, output: 60, cachedInput: 7.5 },
  'o1-mini': { input: 1.1, output: 4.4, cachedInput: 0.55 },
  o3: { input: 2, output: 8, cachedInput: 0.5 },
  'o3-mini': { input: 1.1, output: 4.4, cachedInput: 0.55 },
  'o4-mini': { input: 1.1, output: 4.4, cachedInput: 0.275 },
  'text-embedding-3-small': { input: 0.02, output: 0 },
  'text-embedding-3-large': { input: 0.13, output: 0 },
  'text-embedding-ada-002': { input: 0.1, output: 0 },
};
