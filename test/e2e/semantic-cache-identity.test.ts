/**
 * The semantic cache where the gateway has a managed identity: `embeddings-backend-auth=
 * "system-assigned"` authenticates the embeddings call with the identity's token instead of the
 * backend's key, and the seed's complete policy (which also uses the identity for the chat
 * backends) serves hits within its token limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator } from '../../src/simulator/index.ts';
import { useSimulatedManagedIdentity } from '../helpers/identity.ts';
import { chat, chatCalls, EMBEDDINGS_URL, SEEDS, start } from '../helpers/semantic-cache.ts';

useSimulatedManagedIdentity();

test('system-assigned: the embeddings call carries the managed identity token, not the backend key', async () => {
  // Accepts only tokens issued by a simulator of this process (the identity simulator shares its key).
  const embedder = await startSimulator({ name: 'embedder', requireEntra: true });
  try {
    const t = await start({
      extraBackends: { 'embeddings-backend': { url: `${embedder.url}/openai/deployments/text-embedding-3-small/embeddings`, credentials: { header: { 'api-key': 'a-key-the-embedder-refuses' } } } },
    });
    try {
      await (await chat(t, 'Which planet is largest?')).arrayBuffer();
      const res = await chat(t, 'Which planet is largest?');
      await res.arrayBuffer();
      assert.equal(res.headers.get('x-tollgate-cache'), 'hit');
      assert.equal(chatCalls(t), 1);
    } finally {
      await t.close();
    }
  } finally {
    await embedder.close();
  }
});

test('the seed\'s complete policy: a hit is served within the token limit, consumes no tokens, and the backend pool is not called', async () => {
  const t = await start({
    policy: readFileSync(join(SEEDS, 'complete-ai-gateway.xml'), 'utf8'),
    extraBackends: { 'openai-backend-pool': { urlFromSim: true }, 'embeddings-backend': { urlFromSim: true, url: EMBEDDINGS_URL } },
  });
  try {
    const first = await chat(t, 'Translate "good morning" into German.');
    assert.equal(first.status, 200);
    const consumed = Number(first.headers.get('x-tokens-consumed'));
    assert.ok(consumed > 0);
    const remainingAfterFirst = Number(first.headers.get('x-tokens-remaining'));
    await first.arrayBuffer();

    const hit = await chat(t, 'Translate "good morning" into German.');
    assert.equal(hit.status, 200);
    assert.equal(hit.headers.get('x-tollgate-cache'), 'hit');
    assert.equal(hit.headers.get('x-tokens-consumed'), '0', 'a hit costs no tokens');
    await hit.arrayBuffer();
    assert.equal(chatCalls(t), 1);

    const third = await chat(t, 'Translate "good night" into French, please.');
    assert.equal(third.headers.get('x-tollgate-cache'), 'miss');
    await third.arrayBuffer();
    // The hit's reservation was settled back to 0: the window holds only the two misses.
    assert.ok(Number(third.headers.get('x-tokens-remaining')) <= remainingAfterFirst);
    assert.equal(chatCalls(t), 2);
  } finally {
    await t.close();
  }
});
