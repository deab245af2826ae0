import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cosineSimilarity, embedText } from '../embedder/index.ts';
import { countPromptTokens } from '../tokenizer/index.ts';
import type OpenAI from 'openai';
import type { OpenAiErrorBody } from './errors.ts';
import { postJson, readJson, useSimulator } from './test-support.ts';

/** With `encoding_format: 'base64'` each embedding is a string instead of numbers. */
interface Base64EmbeddingResponse {
  data: { embedding: string }[];
}

function decodeBase64Floats(text: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  const values: number[] = [];
  for (let offset = 0; offset < bytes.length; offset += 4) values.push(bytes.readFloatLE(offset));
  return values;
}

void test('embeddings have OpenAI shape, model-default dimensions and exact usage', async (t) => {
  const sim = await useSimulator(t);
  const body = { model: 'text-embedding-3-small', input: ['The cat sat on the mat.', 'A dog barked.'] };
  const res = await postJson(`${sim.url}/v1/embeddings`, body);
  assert.equal(res.status, 200);
  const json = await readJson<OpenAI.CreateEmbeddingResponse>(res);
  assert.equal(json.object, 'list');
  assert.equal(json.model, 'text-embedding-3-small');
  assert.equal(json.data.length, 2);
  for (const [index, item] of json.data.entries()) {
    assert.deepEqual(Object.keys(item).sort(), ['embedding', 'index', 'object']);
    assert.equal(item.object, 'embedding');
    assert.equal(item.index, index);
    assert.equal(item.embedding.length, 1536);
  }
  assert.deepEqual(Array.from(embedText(body.input[0] ?? '', 1536)), json.data[0]?.embedding);
  const tokens = countPromptTokens(body, 'embeddings');
  assert.deepEqual(json.usage, { prompt_tokens: tokens, total_tokens: tokens });
});

void test('default dimensions follow the model; dimensions shortens the vector', async (t) => {
  const sim = await useSimulator(t);
  const url = `${sim.url}/v1/embeddings`;
  async function lengthFor(body: Record<string, unknown>): Promise<number | undefined> {
    const json = await readJson<OpenAI.CreateEmbeddingResponse>(await postJson(url, { input: 'hi', ...body }));
    return json.data[0]?.embedding.length;
  }
  assert.equal(await lengthFor({ model: 'text-embedding-3-large' }), 3072);
  assert.equal(await lengthFor({ model: 'text-embedding-ada-002' }), 1536);
  assert.equal(await lengthFor({ model: 'my-custom-embedder' }), 1536);
  assert.equal(await lengthFor({ model: 'text-embedding-3-large', dimensions: 256 }), 256);
});

void test('base64 encoding carries the same little-endian float32 values', async (t) => {
  const sim = await useSimulator(t);
  const body = { model: 'text-embedding-3-small', input: 'semantic cache key', dimensions: 64 };
  const floats = (await readJson<OpenAI.CreateEmbeddingResponse>(await postJson(`${sim.url}/v1/embeddings`, body))).data[0]?.embedding;
  const encoded = await readJson<Base64EmbeddingResponse>(await postJson(`${sim.url}/v1/embeddings`, { ...body, encoding_format: 'base64' }));
  const base64 = encoded.data[0]?.embedding ?? '';
  assert.equal(typeof base64, 'string');
  assert.deepEqual(decodeBase64Floats(base64), floats);
});

void test('token-array inputs embed their decoded text', async (t) => {
  const sim = await useSimulator(t);
  const url = `${sim.url}/v1/embeddings`;
  // "hello world" in cl100k_base, the encoding of text-embedding-3-small.
  const fromTokens = await readJson<OpenAI.CreateEmbeddingResponse>(
    await postJson(url, { model: 'text-embedding-3-small', input: [[15339, 1917]], dimensions: 32 }),
  );
  const fromText = await readJson<OpenAI.CreateEmbeddingResponse>(
    await postJson(url, { model: 'text-embedding-3-small', input: 'hello world', dimensions: 32 }),
  );
  assert.ok(cosineSimilarity(fromTokens.data[0]?.embedding ?? [], fromText.data[0]?.embedding ?? []) > 0.999);
  assert.equal(fromTokens.usage.prompt_tokens, 2);
});

void test('invalid embedding requests are 400 naming the parameter', async (t) => {
  const sim = await useSimulator(t);
  const url = `${sim.url}/v1/embeddings`;
  const cases: [Record<string, unknown>, string][] = [
    [{ model: 'text-embedding-3-small' }, 'input'],
    [{ model: 'text-embedding-3-small', input: '' }, 'input'],
    [{ model: 'text-embedding-3-small', input: [] }, 'input'],
    [{ model: 'text-embedding-3-small', input: ['ok', 3] }, 'input'],
    [{ model: 'text-embedding-3-small', input: 'x', dimensions: 5000 }, 'dimensions'],
    [{ model: 'text-embedding-ada-002', input: 'x', dimensions: 256 }, 'dimensions'],
    [{ model: 'text-embedding-3-small', input: 'x', encoding_format: 'hex' }, 'encoding_format'],
  ];
  for (const [body, param] of cases) {
    const res = await postJson(url, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal((await readJson<OpenAiErrorBody>(res)).error.param, param);
  }
});
