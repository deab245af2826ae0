import { test } from 'node:test';
import assert from 'node:assert/strict';
import type OpenAI from 'openai';
import { countPromptTokens, countTextTokens } from '../tokenizer/index.ts';
import type { OpenAiErrorBody } from './errors.ts';
import { postJson, readJson, useSimulator } from './test-support.ts';

const MESSAGES = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Say hello to the gateway.' },
];

void test('chat completion has OpenAI shape and exact usage', async (t) => {
  const sim = await useSimulator(t);
  const body = { model: 'gpt-4o', messages: MESSAGES, max_tokens: 7 };
  const res = await postJson(`${sim.url}/v1/chat/completions`, body);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  const json = await readJson<OpenAI.ChatCompletion>(res);
  assert.match(json.id, /^chatcmpl-/);
  assert.equal(json.object, 'chat.completion');
  assert.equal(typeof json.created, 'number');
  assert.equal(json.model, 'gpt-4o');
  assert.equal(typeof json.system_fingerprint, 'string');
  assert.equal(json.choices.length, 1);
  const choice = json.choices[0]!;
  assert.equal(choice.index, 0);
  assert.deepEqual(Object.keys(choice.message).sort(), ['content', 'refusal', 'role']);
  assert.equal(choice.message.role, 'assistant');
  assert.equal(choice.message.refusal, null);
  assert.equal(choice.logprobs, null);
  assert.equal(choice.finish_reason, 'length');
  const promptTokens = countPromptTokens(body, 'chat', 'gpt-4o');
  assert.equal(countTextTokens(choice.message.content ?? '', 'gpt-4o'), 7);
  assert.deepEqual(json.usage, {
    prompt_tokens: promptTokens,
    completion_tokens: 7,
    total_tokens: promptTokens + 7,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  });
});

void test('reply length follows max_completion_tokens, then max_tokens, then the default', async (t) => {
  const sim = await useSimulator(t, { defaultCompletionTokens: 5 });
  const url = `${sim.url}/v1/chat/completions`;
  async function reply(extra: Record<string, unknown>, headers: Record<string, string> = {}) {
    const json = await readJson<OpenAI.ChatCompletion>(await postJson(url, { model: 'gpt-4o', messages: MESSAGES, ...extra }, headers));
    const choice = json.choices[0]!;
    return { tokens: json.usage?.completion_tokens, finish: choice.finish_reason, text: choice.message.content ?? '' };
  }
  async function lengthAndFinish(extra: Record<string, unknown>, headers: Record<string, string> = {}) {
    const { tokens, finish } = await reply(extra, headers);
    return [tokens, finish];
  }
  assert.deepEqual(await lengthAndFinish({}), [5, 'stop']);
  assert.deepEqual(await lengthAndFinish({ max_tokens: 3 }), [3, 'length']);
  assert.deepEqual(await lengthAndFinish({ max_tokens: 3, max_completion_tokens: 4 }), [4, 'length']);
  // The header sets the natural length; the request's max still caps it.
  assert.deepEqual(await lengthAndFinish({}, { 'x-sim-completion-tokens': '12' }), [12, 'stop']);
  assert.deepEqual(await lengthAndFinish({ max_tokens: 20 }, { 'x-sim-completion-tokens': '12' }), [12, 'stop']);
  assert.deepEqual(await lengthAndFinish({ max_tokens: 2 }, { 'x-sim-completion-tokens': '12' }), [2, 'length']);
  const empty = await reply({}, { 'x-sim-completion-tokens': '0' });
  assert.deepEqual([empty.tokens, empty.text], [0, '']);
  const long = await reply({ max_tokens: 2000 });
  assert.equal(countTextTokens(long.text, 'gpt-4o'), 2000);
  assert.equal(countTextTokens(long.text, 'gpt-4'), 2000);
});

void test('replies are deterministic per prompt and seed', async (t) => {
  const sim = await useSimulator(t, { seed: 1 });
  const other = await useSimulator(t, { seed: 2 });
  async function ask(url: string, messages: unknown, extra: Record<string, unknown> = {}): Promise<string | null> {
    const json = await readJson<OpenAI.ChatCompletion>(await postJson(`${url}/v1/chat/completions`, { model: 'gpt-4o', messages, ...extra }));
    return json.choices[0]!.message.content;
  }
  const first = await ask(sim.url, MESSAGES);
  assert.equal(await ask(sim.url, MESSAGES), first);
  assert.notEqual(await ask(sim.url, [{ role: 'user', content: 'Something else entirely' }]), first);
  assert.notEqual(await ask(other.url, MESSAGES), first, 'simulator seed changes the reply');
  assert.notEqual(await ask(sim.url, MESSAGES, { seed: 99 }), first, 'request seed changes the reply');
});

void test('n > 1 returns n distinct choices and bills each', async (t) => {
  const sim = await useSimulator(t);
  const res = await postJson(`${sim.url}/v1/chat/completions`, { model: 'gpt-4o', messages: MESSAGES, n: 3, max_tokens: 4 });
  const json = await readJson<OpenAI.ChatCompletion>(res);
  assert.deepEqual(json.choices.map((choice) => choice.index), [0, 1, 2]);
  assert.equal(new Set(json.choices.map((choice) => choice.message.content)).size, 3);
  assert.equal(json.usage?.completion_tokens, 12);
});

void test('legacy completions have text_completion shape, one choice per prompt', async (t) => {
  const sim = await useSimulator(t);
  const body = { model: 'gpt-3.5-turbo-instruct', prompt: ['Once upon a time', 'The end'], max_tokens: 6 };
  const res = await postJson(`${sim.url}/v1/completions`, body);
  assert.equal(res.status, 200);
  const json = await readJson<OpenAI.Completion>(res);
  assert.match(json.id, /^cmpl-/);
  assert.equal(json.object, 'text_completion');
  assert.equal(json.choices.length, 2);
  for (const [index, choice] of json.choices.entries()) {
    assert.deepEqual(Object.keys(choice).sort(), ['finish_reason', 'index', 'logprobs', 'text']);
    assert.equal(choice.index, index);
    assert.equal(countTextTokens(choice.text, 'gpt-3.5-turbo-instruct'), 6);
  }
  const promptTokens = countPromptTokens(body, 'completions');
  assert.equal(json.usage?.prompt_tokens, promptTokens);
  assert.equal(json.usage?.completion_tokens, 12);
  assert.equal(json.usage?.total_tokens, promptTokens + 12);
});

void test('invalid requests get 400 in OpenAI error format naming the parameter', async (t) => {
  const sim = await useSimulator(t);
  const url = `${sim.url}/v1/chat/completions`;
  const cases: [unknown, string][] = [
    [{ model: 'gpt-4o' }, 'messages'],
    [{ model: 'gpt-4o', messages: [] }, 'messages'],
    [{ messages: MESSAGES }, 'model'],
    [{ model: 'gpt-4o', messages: MESSAGES, n: 0 }, 'n'],
    [{ model: 'gpt-4o', messages: MESSAGES, n: 500 }, 'n'],
    [{ model: 'gpt-4o', messages: MESSAGES, max_tokens: -1 }, 'max_tokens'],
    [{ model: 'gpt-4o', messages: MESSAGES, stream: 'yes' }, 'stream'],
  ];
  for (const [body, param] of cases) {
    const res = await postJson(url, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    const { error } = await readJson<OpenAiErrorBody>(res);
    assert.equal(error.param, param);
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(typeof error.message, 'string');
  }
  const legacy = await postJson(`${sim.url}/v1/completions`, { model: 'x', prompt: 42 });
  assert.equal((await readJson<OpenAiErrorBody>(legacy)).error.param, 'prompt');
});

void test('malformed JSON and non-object bodies are 400', async (t) => {
  const sim = await useSimulator(t);
  for (const raw of ['{"model": ', '', '[1,2]', '"text"']) {
    const res = await fetch(`${sim.url}/v1/chat/completions`, { method: 'POST', body: raw });
    assert.equal(res.status, 400, raw);
    assert.equal((await readJson<OpenAiErrorBody>(res)).error.code, 'invalid_json');
  }
  assert.equal(sim.requests.at(-4)?.body, undefined, 'unparseable bodies are recorded as undefined');
});

void test('oversized bodies are refused with 413', async (t) => {
  const sim = await useSimulator(t, { maxBodyBytes: 1024 });
  const res = await postJson(`${sim.url}/v1/chat/completions`, { model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(4096) }] });
  assert.equal(res.status, 413);
  assert.equal((await readJson<OpenAiErrorBody>(res)).error.code, '413');
});
