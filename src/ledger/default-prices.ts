/**
 * The shipped price table: USD per 1 million tokens (input, output, cached input) for common
 * OpenAI / Azure OpenAI models.
 *
 * Source: the public list prices of OpenAI's API pricing page (platform.openai.com/docs/pricing,
 * "Standard" tier), which Azure OpenAI charges for the same models on Global Standard
 * deployments (azure.microsoft.com/pricing/details/cognitive-services/openai-service). Compiled
 * on {@link DEFAULT_PRICES_DATE}; prices change and regional / data-zone / provisioned (PTU)
 * deployments are billed differently, so operators override or extend this table with
 * `pricing:` in the configuration (docs/metering.md#cost).
 * @module
 */
import type { ModelPrice } from './pricing.ts';

export const DEFAULT_PRICES_DATE = '2025-08-07';

/** Model name (as a backend reports it, without a version suffix) → price. */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
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
