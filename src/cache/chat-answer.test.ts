import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assembleStream, refuseToStore, renderStream } from './chat-answer.ts';

const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices, ...extra })}\n\n`;

test('a streamed answer with tool calls is assembled into a chat.completion and replays to the same one', () => {
  const sse = [
    chunk([{ index: 0, delta: { role: 'assistant', content: null }, finish_reason: null }]),
    chunk([{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_', arguments: '{"ci' } }] }, finish_reason: null }]),
    chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { name: 'weather', arguments: 'ty":"Oslo"}' } }] }, finish_reason: null }]),
    chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls' }]),
    chunk([], { usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } }),
    'data: [DONE]\n\n',
  ].join('');
  const completion = assembleStream(Buffer.from(sse));
  assert.ok(completion !== undefined);
  assert.equal(refuseToStore(completion), undefined);
  const message = (completion['choices'] as Array<{ message: { tool_calls: Array<{ function: { name: string; arguments: string } }> } }>)[0]?.message;
  assert.deepEqual(message?.tool_calls[0]?.function, { name: 'get_weather', arguments: '{"city":"Oslo"}' });
  assert.deepEqual(completion['usage'], { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
  assert.deepEqual(assembleStream(renderStream(completion, true)), completion, 'replay and re-assembly agree');
  assert.doesNotMatch(renderStream(completion, false).toString(), /"usage"/);
});

test('streams that did not end cleanly, and cut answers, are never stored', () => {
  const body = chunk([{ index: 0, delta: { content: 'hi' }, finish_reason: null }]);
  assert.equal(assembleStream(Buffer.from(body)), undefined, 'no [DONE]');
  assert.equal(assembleStream(Buffer.from(`${body}event: error\ndata: {"error":{}}\n\ndata: [DONE]\n\n`)), undefined);
  const cut = assembleStream(Buffer.from(`${body}${chunk([{ index: 0, delta: {}, finish_reason: 'length' }])}data: [DONE]\n\n`));
  assert.ok(cut !== undefined);
  assert.equal(refuseToStore(cut), 'finish_reason length');
  assert.equal(refuseToStore({ object: 'chat.completion', choices: [{ finish_reason: 'content_filter' }] }), 'finish_reason content_filter');
});
