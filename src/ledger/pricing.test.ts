import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pricing } from './pricing.ts';
import { DEFAULT_PRICES } from './default-prices.ts';

test('a versioned model name is priced by its longest priced prefix', () => {
  const p = new Pricing({}, () => assert.fail('no warning expected'));
  assert.equal(p.priceOf('gpt-4o-2024-08-06'), DEFAULT_PRICES['gpt-4o']);
  assert.equal(p.priceOf('gpt-4o-mini-2024-07-18'), DEFAULT_PRICES['gpt-4o-mini']);
  assert.equal(p.priceOf('gpt-4o'), DEFAULT_PRICES['gpt-4o']);
  // A prefix must end at a dash: "gpt-4ox" is not gpt-4o.
  assert.equal(p.priceOf('gpt-4ox'), null);
});

test('cost: cached prompt tokens at the cached price, the rest at input, completions at output', () => {
  const p = new Pricing({ m: { input: 2, output: 8, cachedInput: 0.5 }, plain: { input: 1, output: 1 } }, () => undefined);
  // (1000 - 400) × 2 + 400 × 0.5 + 100 × 8 = 1200 + 200 + 800 = 2200 per 1M
  assert.equal(p.cost({ model: 'm', promptTokens: 1000, completionTokens: 100, cachedTokens: 400 }), 0.0022);
  // Without a cached price, cached tokens cost the input price.
  assert.equal(p.cost({ model: 'plain', promptTokens: 1000, completionTokens: 0, cachedTokens: 1000 }), 0.001);
});

test('configured prices override the shipped table', () => {
  const p = new Pricing({ 'gpt-4o': { input: 1, output: 1 } }, () => undefined);
  assert.equal(p.cost({ model: 'gpt-4o-2024-11-20', promptTokens: 500_000, completionTokens: 500_000, cachedTokens: 0 }), 1);
});

test('an unknown model costs 0 and is warned about once', () => {
  const warned: string[] = [];
  const p = new Pricing({}, (m) => warned.push(m));
  for (let i = 0; i < 3; i++) assert.equal(p.cost({ model: 'llama-3-70b', promptTokens: 10, completionTokens: 10, cachedTokens: 0 }), 0);
  assert.equal(p.cost({ model: null, promptTokens: 10, completionTokens: 10, cachedTokens: 0 }), 0);
  assert.deepEqual(warned, ['llama-3-70b']);
});

test('a point release is priced as itself, not as its family: gpt-5.4-mini is not gpt-5', () => {
  const p = new Pricing({}, () => assert.fail('no warning expected'));
  assert.equal(p.priceOf('gpt-5.4-mini-2026-03-17'), DEFAULT_PRICES['gpt-5.4-mini']);
  assert.equal(p.priceOf('gpt-5.4-2026-03-05'), DEFAULT_PRICES['gpt-5.4']);
  assert.equal(p.priceOf('gpt-5-2025-08-07'), DEFAULT_PRICES['gpt-5']);
  // 1M prompt tokens of which 200k cached, 100k completion on gpt-5.4: 800k × 2.5 + 200k × 0.25 + 100k × 15 per 1M.
  assert.equal(p.cost({ model: 'gpt-5.4-2026-03-05', promptTokens: 1_000_000, completionTokens: 100_000, cachedTokens: 200_000 }), 2 + 0.05 + 1.5);
});
