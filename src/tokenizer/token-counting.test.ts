import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  IMAGE_TOKENS_HIGH_DETAIL,
  IMAGE_TOKENS_LOW_DETAIL,
  countChatPromptTokens,
  countPromptTokens,
  countTextTokens,
  decodeTokens,
  encodeText,
  encodingForModel,
  tokenizerName,
} from './index.ts';

// The cookbook's example chat; OpenAI's API reported 129 prompt tokens for gpt-4 / gpt-3.5-turbo
// and 124 for gpt-4o / gpt-4o-mini ("How to count tokens with tiktoken", section 6).
const COOKBOOK_MESSAGES = [
  {
    role: 'system',
    content: 'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.',
  },
  { role: 'system', name: 'example_user', content: 'New synergies will help drive top-line growth.' },
  { role: 'system', name: 'example_assistant', content: 'Things working well together will increase revenue.' },
  {
    role: 'system',
    name: 'example_user',
    content: "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
  },
  { role: 'system', name: 'example_assistant', content: "Let's talk later when we're less busy about how to do better." },
  {
    role: 'user',
    content: "This late pivot means we don't have time to boil the ocean for the client deliverable.",
  },
];

// Section 7's tool example: the API reported 101 prompt tokens on gpt-4o and 105 on gpt-4.
const COOKBOOK_TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_current_weather',
      description: 'Get the current weather in a given location',
      parameters: {
        type: 'object',
        properties: {
          location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' },
          unit: { type: 'string', description: 'The unit of temperature to return', enum: ['celsius', 'fahrenheit'] },
        },
        required: ['location'],
      },
    },
  },
];
const COOKBOOK_TOOL_MESSAGES = [
  { role: 'system', content: 'You are a helpful assistant that can answer to questions about the weather.' },
  { role: 'user', content: "What's the weather like in San Francisco?" },
];

void test('models map to the encoding OpenAI uses for them', () => {
  for (const model of ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-nano', 'gpt-5', 'o1', 'o3-mini', 'o4-mini', 'mystery-model', undefined]) {
    assert.equal(encodingForModel(model), 'o200k_base', String(model));
  }
  for (const model of ['gpt-4', 'gpt-4-turbo', 'gpt-4-0613', 'gpt-3.5-turbo', 'gpt-35-turbo', 'text-embedding-3-small', 'text-embedding-ada-002']) {
    assert.equal(encodingForModel(model), 'cl100k_base', model);
  }
  assert.match(tokenizerName, /o200k_base/);
});

void test('"hello world" is two tokens in both encodings', () => {
  assert.equal(countTextTokens('hello world', 'gpt-4o'), 2);
  assert.equal(countTextTokens('hello world', 'gpt-4'), 2);
  assert.deepEqual(encodeText('hello world', 'gpt-4o'), [24912, 2375]);
  assert.deepEqual(encodeText('hello world', 'gpt-4'), [15339, 1917]);
  assert.equal(countTextTokens(''), 0);
});

void test('special-token markup in user text is counted as plain text instead of throwing', () => {
  assert.ok(countTextTokens('a <|endoftext|> b', 'gpt-4o') > 3);
});

void test('chat framing matches the token counts the OpenAI API reported in the cookbook', () => {
  assert.equal(countChatPromptTokens(COOKBOOK_MESSAGES, 'gpt-4o'), 124);
  assert.equal(countChatPromptTokens(COOKBOOK_MESSAGES, 'gpt-4o-mini'), 124);
  assert.equal(countChatPromptTokens(COOKBOOK_MESSAGES, 'gpt-4'), 129);
  assert.equal(countChatPromptTokens(COOKBOOK_MESSAGES, 'gpt-3.5-turbo'), 129);
});

void test('a single user message costs 3 framing + role + content + 3 priming', () => {
  // 3 + 'user'(1) + 'hello world'(2) + 3
  assert.equal(countChatPromptTokens([{ role: 'user', content: 'hello world' }], 'gpt-4o'), 9);
  // name adds its own tokens plus one
  assert.equal(countChatPromptTokens([{ role: 'user', name: 'bob', content: 'hello world' }], 'gpt-4o'), 9 + 1 + countTextTokens('bob'));
});

void test('tool definitions are counted with the cookbook formula', () => {
  assert.equal(countPromptTokens({ model: 'gpt-4o', messages: COOKBOOK_TOOL_MESSAGES, tools: COOKBOOK_TOOLS }, 'chat'), 101);
  assert.equal(countPromptTokens({ model: 'gpt-4', messages: COOKBOOK_TOOL_MESSAGES, tools: COOKBOOK_TOOLS }, 'chat'), 105);
  const legacyFunctions = COOKBOOK_TOOLS.map((tool) => tool.function);
  assert.equal(countPromptTokens({ model: 'gpt-4o', messages: COOKBOOK_TOOL_MESSAGES, functions: legacyFunctions }, 'chat'), 101);
});

void test('content parts: text parts are counted, images use the documented fixed estimate', () => {
  const text = countChatPromptTokens([{ role: 'user', content: 'hello world' }]);
  const parts = countChatPromptTokens([
    {
      role: 'user',
      content: [
        { type: 'text', text: 'hello world' },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } },
        { type: 'image_url', image_url: { url: 'https://example.com/dog.png' } },
      ],
    },
  ]);
  assert.equal(parts, text + IMAGE_TOKENS_LOW_DETAIL + IMAGE_TOKENS_HIGH_DETAIL);
});

void test('assistant tool_calls count function names and arguments', () => {
  const args = '{"location":"Paris"}';
  const withCall = countChatPromptTokens([
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: args } }],
    },
  ]);
  const expected = 3 + countTextTokens('assistant') + countTextTokens('get_weather') + countTextTokens(args) + 3;
  assert.equal(withCall, expected);
});

void test('odd chat input never throws and counts what it can', () => {
  assert.equal(countChatPromptTokens(undefined), 0);
  assert.equal(countChatPromptTokens('not an array'), 0);
  assert.equal(countChatPromptTokens({ role: 'user' }), 0);
  // null message: framing only; numbers and nested junk are skipped
  assert.equal(countChatPromptTokens([null]), 3 + 3);
  assert.equal(countChatPromptTokens([{ role: 42, content: [null, 7, { type: 'weird' }], tool_calls: 'x' }]), 3 + 3);
  assert.equal(countPromptTokens(null, 'chat'), 0);
  assert.equal(countPromptTokens('x', 'embeddings'), 0);
  const hostile = {
    get messages(): never {
      throw new Error('boom');
    },
  };
  assert.equal(countPromptTokens(hostile, 'chat'), 0);
});

void test('prompt and input accept strings, string arrays, token arrays and arrays of token arrays', () => {
  assert.equal(countPromptTokens({ prompt: 'hello world' }, 'completions'), 2);
  assert.equal(countPromptTokens({ prompt: ['hello world', 'hello'] }, 'completions'), 3);
  assert.equal(countPromptTokens({ prompt: [1, 2, 3] }, 'completions'), 3);
  assert.equal(countPromptTokens({ prompt: [[1, 2], [3]] }, 'completions'), 3);
  assert.equal(countPromptTokens({ input: 'hello world', model: 'text-embedding-3-small' }, 'embeddings'), 2);
  assert.equal(countPromptTokens({ input: [[1, 2, 3, 4]] }, 'embeddings'), 4);
  assert.equal(countPromptTokens({ input: [[[1]]] }, 'embeddings'), 0, 'nesting beyond one batch level is not an input');
});

void test('the model argument overrides the body model', () => {
  // cl100k and o200k split this differently, so the override is observable.
  const text = 'Привет, как дела?';
  assert.notEqual(countTextTokens(text, 'gpt-4'), countTextTokens(text, 'gpt-4o'));
  assert.equal(countPromptTokens({ model: 'gpt-4o', prompt: text }, 'completions', 'gpt-4'), countTextTokens(text, 'gpt-4'));
});

void test('decodeTokens round-trips and returns undefined for ids outside the vocabulary', () => {
  assert.equal(decodeTokens(encodeText('hello world'), 'gpt-4o'), 'hello world');
  assert.equal(decodeTokens([999_999_999], 'gpt-4o'), undefined);
});
