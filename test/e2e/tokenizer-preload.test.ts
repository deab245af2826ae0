/**
 * A gateway whose requests will be counted (a token limit counts every streamed prompt, and every
 * prompt when it estimates) builds the tokenizer tables of its deployments' models before it
 * listens, not on the first counted request, which would hold every request in flight while a
 * table is built (~40–115 ms). Its own file: the tables are per process, and
 * tokenizer-loading.test.ts checks that a gateway without a token limit loads none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TEST_KEY } from '../helpers/gateway.ts';
import { loadedEncodings } from '../../src/tokenizer/index.ts';

const LIMIT = '<policies><inbound><base /><llm-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="100000" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>';

void test('a token limit makes the gateway load its deployments’ tokenizer tables before it listens', async () => {
  assert.deepEqual(loadedEncodings(), []);
  // gpt-4o counts with o200k_base, gpt-4 with cl100k_base.
  const t = await startTestGateway({ apiPolicies: LIMIT, deployments: ['gpt-4o', 'gpt-4'] });
  try {
    assert.deepEqual([...loadedEncodings()].sort(), ['cl100k_base', 'o200k_base'], 'both tables before any request');
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4', stream: true, messages: [{ role: 'user', content: 'count me' }] }),
    });
    assert.equal(res.status, 200);
    await res.text();
    assert.deepEqual([...loadedEncodings()].sort(), ['cl100k_base', 'o200k_base'], 'nothing more to load');
  } finally {
    await t.close();
  }
});
