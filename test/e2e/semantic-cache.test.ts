/**
 * The seed's semantic cache blocks, verbatim, through the gateway with real sockets: a repeated
 * prompt is answered without the chat backend, in the form the client asks for; partitions keep
 * tenants apart; incomplete or refused answers are never stored; a broken embeddings backend
 * is a miss, never an error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startSimulator } from '../../src/simulator/index.ts';
import { TEST_KEY, type TestGateway } from '../helpers/gateway.ts';
import { chat, chatCalls, doc, OTHER_KEY, start } from '../helpers/semantic-cache.ts';

test('the seed\'s blocks verbatim: a repeated prompt is a hit answered without the chat backend, with headers and a usage record', async () => {
  const t = await start();
  try {
    const first = await chat(t, 'What is the capital of France?');
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-tollgate-cache'), 'miss');
    const original = await first.text();
    assert.equal(chatCalls(t), 1);

    const second = await chat(t, 'What is the capital of France?');
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('x-tollgate-cache'), 'hit');
    assert.ok(Number(second.headers.get('x-tollgate-cache-score')) >= 0.95);
    assert.equal(await second.text(), original, 'the stored answer, byte for byte');
    assert.equal(chatCalls(t), 1, 'no chat backend call for the hit');

    const unrelated = await chat(t, 'Explain the rules of cricket in detail.');
    assert.equal(unrelated.headers.get('x-tollgate-cache'), 'miss');
    await unrelated.arrayBuffer();
    assert.equal(chatCalls(t), 2);

    const hitUsage = t.usages[1];
    assert.equal(hitUsage?.cache, 'hit');
    assert.ok((hitUsage.cacheScore ?? 0) >= 0.95);
    assert.equal(hitUsage.totalTokens, 0, 'a hit consumes no chat tokens');
    assert.equal(hitUsage.backend, null);
    assert.equal(hitUsage.embeddingTokens, 0, 'the repeated prompt\'s vector was remembered: no embeddings call');
    assert.equal(t.usages[0]?.cache, 'miss');
    assert.ok((t.usages[0]?.embeddingTokens ?? 0) > 0, 'the embeddings call is metered');
  } finally {
    await t.close();
  }
});

test('a JSON answer replays as a stream read by the official openai client, with the usage chunk only when asked', async () => {
  const t = await start();
  try {
    const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: TEST_KEY, defaultHeaders: { 'x-sim-completion-tokens': '5' } });
    const messages = [{ role: 'user' as const, content: 'Name three primary colours.' }];
    const stored = await client.chat.completions.create({ model: 'gpt-4o', messages });
    const text = stored.choices[0]?.message.content ?? '';
    assert.ok(text.length > 0);

    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } });
    let replayed = '';
    let usage: unknown;
    let finish: string | null = null;
    for await (const chunk of stream) {
      replayed += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(replayed, text);
    assert.equal(finish, 'stop');
    assert.deepEqual(usage, stored.usage);
    assert.equal(chatCalls(t), 1);

    const raw = await chat(t, 'Name three primary colours.', { stream: true });
    assert.equal(raw.headers.get('x-tollgate-cache'), 'hit');
    const body = await raw.text();
    assert.ok(body.endsWith('data: [DONE]\n\n'));
    assert.doesNotMatch(body, /"usage"/, 'no usage chunk for a client that did not ask');
  } finally {
    await t.close();
  }
});

test('a cleanly completed stream is stored and replayed as JSON and as a stream', async () => {
  const t = await start();
  try {
    const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: TEST_KEY, defaultHeaders: { 'x-sim-completion-tokens': '7' } });
    const messages = [{ role: 'user' as const, content: 'Write a haiku about autumn leaves.' }];
    let streamed = '';
    for await (const chunk of await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true })) streamed += chunk.choices[0]?.delta.content ?? '';
    assert.ok(streamed.length > 0);
    assert.equal(chatCalls(t), 1);

    const json = await client.chat.completions.create({ model: 'gpt-4o', messages });
    assert.equal(json.choices[0]?.message.content, streamed);
    assert.equal(json.choices[0]?.finish_reason, 'stop');
    assert.equal(json.usage?.completion_tokens, 7, 'the usage the backend reported for the stream');

    let again = '';
    for await (const chunk of await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true })) again += chunk.choices[0]?.delta.content ?? '';
    assert.equal(again, streamed);
    assert.equal(chatCalls(t), 1, 'both replays came from the cache');
  } finally {
    await t.close();
  }
});

test('two subscriptions never share an entry; partition "product" widens it to the product', async () => {
  const t = await start();
  try {
    await (await chat(t, 'Summarise the plot of Hamlet.')).arrayBuffer();
    const other = await chat(t, 'Summarise the plot of Hamlet.', {}, { 'api-key': OTHER_KEY });
    assert.equal(other.headers.get('x-tollgate-cache'), 'miss');
    await other.arrayBuffer();
    assert.equal(chatCalls(t), 2);
  } finally {
    await t.close();
  }
  const wide = await start({ responses: { partition: 'product' } });
  try {
    await (await chat(wide, 'Summarise the plot of Hamlet.')).arrayBuffer();
    const other = await chat(wide, 'Summarise the plot of Hamlet.', {}, { 'api-key': OTHER_KEY });
    assert.equal(other.headers.get('x-tollgate-cache'), 'hit');
    await other.arrayBuffer();
  } finally {
    await wide.close();
  }
});

test('vary-by values and answer-shaping parameters partition the cache', async () => {
  const policy = doc(
    `<inbound><base /><llm-semantic-cache-lookup score-threshold="0.95" embeddings-backend-id="embeddings-backend" embeddings-backend-auth="system-assigned">
       <vary-by>@(context.Request.Headers.GetValueOrDefault("x-user", ""))</vary-by>
     </llm-semantic-cache-lookup></inbound>`,
    '<outbound><base /><llm-semantic-cache-store duration="60" /></outbound>',
  );
  const t = await start({ policy });
  try {
    const q = 'How many legs does a spider have?';
    const status = async (extra: Record<string, unknown>, headers: Record<string, string>): Promise<string | null> => {
      const res = await chat(t, q, extra, headers);
      await res.arrayBuffer();
      return res.headers.get('x-tollgate-cache');
    };
    assert.equal(await status({}, { 'x-user': 'alice' }), 'miss');
    assert.equal(await status({}, { 'x-user': 'alice' }), 'hit');
    assert.equal(await status({}, { 'x-user': 'bob' }), 'miss');
    assert.equal(await status({ temperature: 0 }, { 'x-user': 'alice' }), 'miss', 'another temperature class');
    assert.equal(await status({ tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] }, { 'x-user': 'alice' }), 'miss');
    assert.equal(await status({ response_format: { type: 'json_object' } }, { 'x-user': 'alice' }), 'miss');
    assert.equal(await status({ n: 2 }, { 'x-user': 'alice' }), 'miss');
  } finally {
    await t.close();
  }
});

test('nothing is stored from a 500, a cut stream, a finish_reason of length, or a refused request', async () => {
  const policy = doc(
    `<inbound><base />
       <rate-limit-by-key calls="1" renewal-period="60" counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;x-bucket&quot;, &quot;&quot;))" />
       <llm-semantic-cache-lookup score-threshold="0.95" embeddings-backend-id="embeddings-backend" embeddings-backend-auth="system-assigned" /></inbound>`,
    '<outbound><base /><llm-semantic-cache-store duration="60" /></outbound>',
  );
  const t = await start({ policy });
  try {
    const failed = await chat(t, 'prompt one about servers', {}, { 'x-sim-fail': '500', 'x-bucket': '1' });
    assert.equal(failed.status, 500);
    await failed.arrayBuffer();
    const cut = await chat(t, 'prompt two about streams', { stream: true }, { 'x-sim-fail': 'cut-after:2', 'x-bucket': '2' });
    await cut.text();
    const long = await chat(t, 'prompt three about length', { max_tokens: 2 }, { 'x-sim-completion-tokens': '50', 'x-bucket': '3' });
    assert.equal(((await long.json()) as { choices: Array<{ finish_reason: string }> }).choices[0]?.finish_reason, 'length');
    await (await chat(t, 'warm up', {}, { 'x-bucket': '4' })).arrayBuffer();
    const refused = await chat(t, 'prompt four about limits', {}, { 'x-bucket': '4' });
    assert.equal(refused.status, 429);
    await refused.arrayBuffer();

    const again = async (content: string, extra: Record<string, unknown>, bucket: string): Promise<string | null> => {
      const res = await chat(t, content, extra, { 'x-bucket': bucket });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      return res.headers.get('x-tollgate-cache');
    };
    assert.equal(await again('prompt one about servers', {}, 'a'), 'miss');
    assert.equal(await again('prompt two about streams', { stream: true }, 'b'), 'miss');
    assert.equal(await again('prompt three about length', { max_tokens: 2 }, 'c'), 'miss');
    assert.equal(await again('prompt four about limits', {}, 'd'), 'miss');
  } finally {
    await t.close();
  }
});

test('entries expire after the store duration, and the cache keeps at most maxEntries (least recently used out first)', async () => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const t = await start({ clock: () => now, responses: { maxEntries: 2 } });
  try {
    const status = async (q: string): Promise<string | null> => {
      const res = await chat(t, q);
      await res.arrayBuffer();
      return res.headers.get('x-tollgate-cache');
    };
    assert.equal(await status('alpha question about rivers'), 'miss');
    assert.equal(await status('alpha question about rivers'), 'hit');
    now += 3601_000;
    assert.equal(await status('alpha question about rivers'), 'miss', 'expired after duration="3600"');
    assert.equal(await status('beta question about mountains'), 'miss');
    assert.equal(await status('alpha question about rivers'), 'hit', 'alpha is now the most recently used');
    assert.equal(await status('gamma question about deserts'), 'miss');
    assert.equal(await status('beta question about mountains'), 'miss', 'beta was evicted');
  } finally {
    await t.close();
  }
});

test('an embeddings backend that is down, slow or answers garbage makes the lookup a miss; the answer is still correct', async () => {
  const garbage = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[{"embedding":"nonsense!"}]}'));
  garbage.listen(0, '127.0.0.1');
  await new Promise((r) => garbage.once('listening', r));
  const slow = await startSimulator({ name: 'slow', latencyMs: 5000 });
  const cases: Record<string, Record<string, unknown>> = {
    down: { url: 'http://127.0.0.1:9/openai/deployments/e/embeddings', timeouts: { connectMs: 500 } },
    slow: { url: `${slow.url}/openai/deployments/text-embedding-3-small/embeddings` },
    garbage: { url: `http://127.0.0.1:${(garbage.address() as AddressInfo).port}/openai/deployments/e/embeddings` },
  };
  try {
    for (const [name, backend] of Object.entries(cases)) {
      const t = await start({ extraBackends: { 'embeddings-backend': backend }, responses: { embeddingsTimeoutMs: 300 } });
      try {
        for (let i = 0; i < 2; i++) {
          const res = await chat(t, 'Is the cache there?');
          assert.equal(res.status, 200, name);
          assert.equal(res.headers.get('x-tollgate-cache'), 'miss', name);
          const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
          assert.ok(body.choices[0]?.message.content.length, name);
        }
        assert.equal(chatCalls(t), 2, name);
      } finally {
        await t.close();
      }
    }
  } finally {
    garbage.close();
    await slow.close();
  }
});

test('an embeddings backend with its own key is called with that key', async () => {
  const embedder = await startSimulator({ name: 'embedder', requireKey: 'embedder-own-key-1234' });
  try {
    for (const [key, expected] of [['embedder-own-key-1234', 'hit'], ['wrong-key', 'miss']] as const) {
      const t = await start({
        extraBackends: { 'embeddings-backend': { url: `${embedder.url}/openai/deployments/text-embedding-3-small/embeddings`, credentials: { header: { 'api-key': key } } } },
      });
      try {
        await (await chat(t, 'Which planet is largest?')).arrayBuffer();
        const res = await chat(t, 'Which planet is largest?');
        await res.arrayBuffer();
        assert.equal(res.headers.get('x-tollgate-cache'), expected, key);
      } finally {
        await t.close();
      }
    }
  } finally {
    await embedder.close();
  }
});

test('system messages partition the cache unless ignore-system-messages; max-message-count skips long conversations; score-type="distance"', async () => {
  const lookup = (attrs: string): string =>
    doc(`<inbound><base /><llm-semantic-cache-lookup score-threshold="0.05" score-type="distance" embeddings-backend-id="embeddings-backend" embeddings-backend-auth="system-assigned" ${attrs} /></inbound>`, '<outbound><base /><llm-semantic-cache-store duration="60" /></outbound>');
  const ask = async (t: TestGateway, messages: unknown[]): Promise<string | null> => {
    const res = await chat(t, '', { messages });
    await res.arrayBuffer();
    return res.headers.get('x-tollgate-cache');
  };
  const convo = (system: string): unknown[] => [
    { role: 'system', content: system },
    { role: 'user', content: 'Recommend a book about the sea.' },
  ];
  const strict = await start({ policy: lookup('max-message-count="2"') });
  try {
    assert.equal(await ask(strict, convo('You are terse.')), 'miss');
    assert.equal(await ask(strict, convo('You are terse.')), 'hit', 'distance 0 ≤ 0.05');
    assert.equal(await ask(strict, convo('You are a pirate.')), 'miss', 'another system message');
    const long = [...convo('You are terse.'), { role: 'assistant', content: 'Moby-Dick.' }, { role: 'user', content: 'Another one?' }];
    assert.equal(await ask(strict, long), null, 'more than 2 messages: no lookup at all');
  } finally {
    await strict.close();
  }
  const loose = await start({ policy: lookup('ignore-system-messages="true"') });
  try {
    assert.equal(await ask(loose, convo('You are terse.')), 'miss');
    assert.equal(await ask(loose, convo('You are a pirate.')), 'hit', 'system messages ignored');
  } finally {
    await loose.close();
  }
});

test('a miss on a body with a repeated key is sent to the backend as the cache read it, so the answer filed under the prompt answers that prompt', async () => {
  const t = await start();
  try {
    const send = async (raw: string): Promise<Response> =>
      fetch(`${t.url}/v1/chat/completions`, { method: 'POST', headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', 'x-sim-completion-tokens': '5' }, body: raw });
    const lastChat = (): { length: number; content: unknown } => {
      const r = t.sim.requests.filter((q) => q.path.endsWith('/chat/completions')).at(-1);
      return { length: Number(r?.headers['content-length']), content: (r?.body as { messages: Array<{ content: unknown }> }).messages[0]?.content };
    };
    // The cache (like JSON.parse) reads the last "content"; a first-key backend would answer the first.
    const twin = '{"model":"gpt-4o","messages":[{"role":"user","content":"Say that refunds are never given.","content":"What is the refund policy?"}]}';
    const miss = await send(twin);
    assert.equal(miss.headers.get('x-tollgate-cache'), 'miss');
    await miss.arrayBuffer();
    assert.equal(lastChat().content, 'What is the refund policy?');
    assert.equal(lastChat().length, Buffer.byteLength(JSON.stringify(JSON.parse(twin))), 'the parsed body, not the client\'s bytes');
    const plain = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Name a large ocean.' }] });
    const other = await send(plain);
    assert.equal(other.headers.get('x-tollgate-cache'), 'miss');
    await other.arrayBuffer();
    assert.equal(lastChat().length, Buffer.byteLength(plain), 'a body without a repeated key goes on as sent');
  } finally {
    await t.close();
  }
});
