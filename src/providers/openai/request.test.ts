import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/errors.ts';
import { jsonDepthExceeds, MAX_JSON_DEPTH, parseJsonObject, withStreamUsage } from './request.ts';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

function invalidJson(body: Buffer): GatewayError {
  try {
    parseJsonObject(body);
  } catch (err) {
    assert.ok(GatewayError.is(err), `expected a GatewayError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected parseJsonObject to throw');
}

void test('parseJsonObject returns the parsed object', () => {
  assert.deepEqual(parseJsonObject(b('{"model":"gpt-4o","stream":true,"n":1}')), { model: 'gpt-4o', stream: true, n: 1 });
});

void test('parseJsonObject accepts a UTF-8 byte order mark', () => {
  const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b('{"model":"gpt-4o","messages":[{"role":"user","content":"héllo"}]}')]);
  assert.deepEqual(parseJsonObject(body), { model: 'gpt-4o', messages: [{ role: 'user', content: 'héllo' }] });
});

void test('malformed JSON is GW_ERR_INVALID_JSON (400) and keeps the parser error as cause', () => {
  const err = invalidJson(b('{"model":"gpt-4o",'));
  assert.equal(err.code, 'GW_ERR_INVALID_JSON');
  assert.equal(err.status, 400);
  assert.equal(err.type, 'invalid_request_error');
  assert.ok(err.cause instanceof SyntaxError);
  assert.ok(err.message.startsWith('We could not parse the JSON body of your request: '), err.message);
  assert.equal(invalidJson(b('')).code, 'GW_ERR_INVALID_JSON');
});

void test('JSON that is not an object (array, number, string, null) is GW_ERR_INVALID_JSON', () => {
  for (const text of ['[{"model":"gpt-4o"}]', '42', '"text"', 'null', 'true']) {
    const err = invalidJson(b(text));
    assert.equal(err.code, 'GW_ERR_INVALID_JSON', text);
    assert.equal(err.message, 'The request body must be a JSON object.', text);
  }
});

void test('withStreamUsage splices include_usage before the closing brace, leaving every other byte as sent', () => {
  const sent = '{ "model" : "gpt-4o",\n  "messages": [{"role":"user","content":"}"}],\n  "stream": true\n}';
  const json = parseJsonObject(b(sent));
  const out = withStreamUsage(b(sent), json);
  assert.equal(
    out?.toString('utf8'),
    '{ "model" : "gpt-4o",\n  "messages": [{"role":"user","content":"}"}],\n  "stream": true\n,"stream_options":{"include_usage":true}}',
  );
  assert.deepEqual(JSON.parse(out.toString('utf8')), { model: 'gpt-4o', messages: [{ role: 'user', content: '}' }], stream: true, stream_options: { include_usage: true } });
  // The parsed body the gateway keeps says the same as the bytes it forwards.
  assert.deepEqual(json['stream_options'], { include_usage: true });
});

void test('withStreamUsage keeps whitespace and a newline after the closing brace', () => {
  const sent = '{"model":"gpt-4o","stream":true}  \r\n';
  const out = withStreamUsage(b(sent), parseJsonObject(b(sent)));
  assert.equal(out?.toString('utf8'), '{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}}  \r\n');
});

void test('an existing stream_options without include_usage is re-serialised with include_usage true, other fields kept', () => {
  const sent = '{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":false,"foo":1}}';
  const out = withStreamUsage(b(sent), parseJsonObject(b(sent)));
  assert.equal(out?.toString('utf8'), '{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true,"foo":1}}');

  const withoutFlag = '{"stream":true,"stream_options":{"foo":"bar"}}';
  assert.equal(withStreamUsage(b(withoutFlag), parseJsonObject(b(withoutFlag)))?.toString('utf8'), '{"stream":true,"stream_options":{"foo":"bar","include_usage":true}}');
});

void test('stream_options: null becomes {include_usage: true}', () => {
  const sent = '{"model":"gpt-4o","stream":true,"stream_options":null}';
  const out = withStreamUsage(b(sent), parseJsonObject(b(sent)));
  assert.equal(out?.toString('utf8'), '{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}}');
});

void test('nothing changes when include_usage is already true, or when stream_options is malformed', () => {
  const already = '{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}}';
  const json = parseJsonObject(b(already));
  assert.equal(withStreamUsage(b(already), json), undefined);
  assert.deepEqual(json, { model: 'gpt-4o', stream: true, stream_options: { include_usage: true } });
  for (const malformed of ['"yes"', '[true]', '1']) {
    const sent = `{"stream":true,"stream_options":${malformed}}`;
    assert.equal(withStreamUsage(b(sent), parseJsonObject(b(sent))), undefined, malformed);
  }
});

void test('jsonDepthExceeds counts nesting outside strings only, escaped quotes included', () => {
  assert.equal(jsonDepthExceeds(b('['.repeat(5) + ']'.repeat(5)), 4), true);
  assert.equal(jsonDepthExceeds(b('['.repeat(4) + ']'.repeat(4)), 4), false);
  assert.equal(jsonDepthExceeds(b('[[],[],[],[],[],[]]'), 2), false);
  assert.equal(jsonDepthExceeds(b('["[[[[[", "\\\\", [[["\\"[[["]]]]'), 3), true);
  assert.equal(jsonDepthExceeds(b('["[[[[[", "\\\\", [["\\"[[["]]]'), 3), false);
  assert.equal(jsonDepthExceeds(b('[{"a":"\\\\\\"[[[[[[[["}]'), 2), false);
  // An unterminated string is not "too deep": JSON.parse reports it.
  assert.equal(jsonDepthExceeds(b('[[[[["abc'), 10), false);
});

void test('a body nested deeper than MAX_JSON_DEPTH is GW_ERR_INVALID_JSON before it is parsed', () => {
  const deep = Buffer.from(`{"model":"m","x":${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`);
  assert.throws(() => parseJsonObject(deep), (err: unknown) => GatewayError.is(err) && err.code === 'GW_ERR_INVALID_JSON');
  const fits = Buffer.from(`{"model":"m","x":${'['.repeat(MAX_JSON_DEPTH - 1)}${']'.repeat(MAX_JSON_DEPTH - 1)}}`);
  assert.equal(parseJsonObject(fits)['model'], 'm');
});
