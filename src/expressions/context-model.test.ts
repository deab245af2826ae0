// APIM's `context` object over the gateway's RequestContext.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../core/errors.ts';
import { StoredResponse } from '../policies/send-request/stored-response.ts';
import { type ExpressionRuntimeError, compileExpression, toJToken } from './index.ts';
import { makeContext, run, runStr } from './test-support.ts';

test('context.Request: method, URL parts, IP, headers, matched parameters', () => {
  const ctx = makeContext({ headers: { host: 'gateway.local:8080', 'x-multi': ['a', 'b'], 'x-one': 'v' }, query: '?api-version=2024-02-01&tag=a&tag=b' });
  assert.equal(run('@(context.Request.Method)', ctx), 'POST');
  assert.equal(run('@(context.Request.Url.Path)', ctx), '/openai/deployments/gpt-4/chat/completions');
  assert.equal(run('@(context.Request.Url.Host + ":" + context.Request.Url.Port + " " + context.Request.Url.Scheme)', ctx), 'gateway.local:8080 http');
  assert.equal(run('@(context.Request.Url.QueryString)', ctx), '?api-version=2024-02-01&tag=a&tag=b');
  assert.equal(run('@(context.Request.Url.Query.GetValueOrDefault("api-version", ""))', ctx), '2024-02-01');
  assert.equal(run('@(context.Request.Url.Query.GetValueOrDefault("tag", ""))', ctx), 'a,b');
  assert.equal(run('@(context.Request.Url.Query.GetValueOrDefault("nope", "d"))', ctx), 'd');
  assert.equal(run('@(context.Request.Url.ToString())', ctx), 'http://gateway.local:8080/openai/deployments/gpt-4/chat/completions?api-version=2024-02-01&tag=a&tag=b');
  assert.equal(runStr('@(context.Request.OriginalUrl)', ctx), 'http://gateway.local:8080/openai/deployments/gpt-4/chat/completions?api-version=2024-02-01&tag=a&tag=b');
  assert.equal(run('@(context.Request.IpAddress)', ctx), '10.1.2.3');
  assert.equal(run('@(context.Request.Headers.GetValueOrDefault("X-Multi", "none"))', ctx), 'a,b');
  assert.equal(run('@(context.Request.Headers.GetValueOrDefault("X-Missing"))', ctx), null);
  assert.equal(run('@(context.Request.Headers["X-One"][0])', ctx), 'v');
  assert.equal(run('@(context.Request.Headers.ContainsKey("x-one") && !context.Request.Headers.ContainsKey("__proto__"))', ctx), true);
  assert.equal(run('@(context.Request.Headers.TryGetValue("X-Multi", out var v) ? v.Length : 0)', ctx), 2);
  assert.equal(run('@(context.Request.Headers.Any(h => h.Key == "x-one"))', ctx), true);
  assert.throws(() => run('@(context.Request.Headers["constructor"])', ctx), (e: ExpressionRuntimeError) => e.exception === 'System.Collections.Generic.KeyNotFoundException');
  assert.equal(run('@(context.Request.MatchedParameters.GetValueOrDefault("deployment-id", "") + context.Request.MatchedParameters.ContainsKey("x"))', ctx), 'gpt-4False');
  assert.equal(run('@(context.Request.Certificate)', ctx), null);
});

test('context.Response: status, reason, headers, body', () => {
  const ctx = makeContext();
  // Before a backend answered: an empty 200 OK, as in APIM (never null).
  assert.equal(run('@(context.Response.StatusCode + " " + context.Response.StatusReason + " " + context.Response.Headers.Count + " " + (context.Response.Body == null))', ctx), '200 OK 0 True');
  ctx.response = { status: 429, headers: { 'retry-after': '10' }, body: { kind: 'buffer', data: Buffer.from('{"error":{"code":"429"}}') } };
  assert.equal(run('@(context.Response.StatusCode + " " + context.Response.StatusReason)', ctx), '429 Too Many Requests');
  assert.equal(run('@(context.Response.Headers.GetValueOrDefault("Retry-After", "0"))', ctx), '10');
  assert.equal(run('@((string)context.Response.Body.As<JObject>()["error"]["code"])', ctx), '429');
  ctx.response = { status: 200, headers: {}, body: { kind: 'empty' } };
  assert.equal(run('@(context.Response.Body)', ctx), null);
});

test('context.Response.Headers: the measured usage under the x-ms-*-tokens names, a header the backend sent wins, enumeration as one record', () => {
  const ctx = makeContext();
  ctx.response = { status: 200, headers: { 'content-type': 'application/json', 'x-ms-total-tokens': '99' }, body: { kind: 'empty' } };
  ctx.tokens = { promptTokens: 12, completionTokens: 30, totalTokens: 42, cachedTokens: 0, reasoningTokens: 0 };
  assert.equal(run('@(context.Response.Headers.GetValueOrDefault("x-ms-prompt-tokens", "0") + "/" + context.Response.Headers.GetValueOrDefault("X-MS-Completion-Tokens", "0"))', ctx), '12/30');
  assert.equal(run('@(context.Response.Headers.GetValueOrDefault("x-ms-total-tokens", "0"))', ctx), '99');
  assert.equal(run('@(context.Response.Headers.ContainsKey("content-type") && !context.Response.Headers.ContainsKey("x-ms-other"))', ctx), true);
  // The usage names first, then the response's own headers, each once.
  assert.equal(run('@(String.Join(",", context.Response.Headers.Keys) + " " + context.Response.Headers.Count)', ctx), 'x-ms-prompt-tokens,x-ms-completion-tokens,x-ms-total-tokens,content-type 4');
  assert.equal(run('@(context.Response.Headers["x-ms-total-tokens"][0])', ctx), '99');
  ctx.tokens = null;
  assert.equal(run('@(context.Response.Headers.GetValueOrDefault("x-ms-prompt-tokens", "none") + " " + context.Response.Headers.Count)', ctx), 'none 2');
});

test('subscription, product, api, operation, user, deployment', () => {
  const ctx = makeContext();
  assert.equal(run('@(context.Subscription.Id + "|" + context.Subscription.Name + "|" + context.Subscription.Key)', ctx), 'sub-1|Team A|key-123');
  assert.equal(run('@(context.Subscription.PrimaryKey)', ctx), 'key-123');
  assert.equal(run('@(context.Product.Id + "|" + context.Product.Name)', ctx), 'starter|starter');
  assert.equal(run('@(context.Api.Id + "|" + context.Api.Name + "|" + context.Api.Path)', ctx), 'azure-openai-api|Azure OpenAI|openai');
  assert.equal(run('@(context.Operation.Id + "|" + context.Operation.Method + "|" + context.Operation.UrlTemplate)', ctx), 'ChatCompletions_Create|POST|/deployments/{deployment-id}/chat/completions');
  assert.equal(run('@(context.User)', ctx), null);
  assert.equal(run('@(context.Deployment.Region + context.Deployment.ServiceName + context.Deployment.ServiceId + context.Deployment.Gateway.Id)', ctx), 'localtollgatetollgatetollgate');
  assert.equal(run('@(context.Tracing)', ctx), false);
  assert.equal(run('@(context.Timestamp <= DateTime.UtcNow.AddYears(100))', ctx), true);
  const anon = makeContext({ subscription: false });
  assert.equal(run('@(context.Subscription)', anon), null);
  assert.equal(run('@(context.Subscription?.Id ?? "anonymous")', anon), 'anonymous');
  assert.throws(() => run('@(context.Subscription.Id)', anon), (e: ExpressionRuntimeError) => e.exception === 'System.NullReferenceException');
});

test('context.<part>.<property> read directly (no options) gives exactly what the interpreter gives: values, nulls, a missing part', () => {
  const props: Record<string, string[]> = {
    Subscription: ['Id', 'Name', 'Key', 'PrimaryKey', 'SecondaryKey', 'StartDate', 'EndDate', 'CreatedTime', 'CreatedDate'],
    Product: ['Id', 'Name', 'ApprovalRequired', 'Apis', 'Groups', 'State', 'SubscriptionLimit', 'SubscriptionRequired', 'Workspace'],
    Api: ['Id', 'Name', 'Path', 'Version', 'Revision', 'IsCurrentRevision', 'Protocols', 'ServiceUrl', 'SubscriptionKeyParameterNames', 'Workspace'],
    Operation: ['Id', 'Name', 'Method', 'UrlTemplate'],
  };
  const full = makeContext();
  const anonymous = makeContext({ subscription: false, headers: { host: 'gateway.local' } });
  const bare = makeContext();
  bare.api = null;
  bare.operation = null;
  bare.productId = null;
  const namedless = makeContext();
  namedless.api = { id: 'a', name: null as unknown as string, path: 'p' };
  const outcome = (f: () => unknown): unknown => {
    try {
      return { value: f() };
    } catch (err) {
      return { exception: (err as ExpressionRuntimeError).exception, message: (err as Error).message };
    }
  };
  let direct = 0;
  for (const ctx of [full, anonymous, bare, namedless]) {
    for (const [part, names] of Object.entries(props)) {
      for (const name of names) {
        const c = compileExpression(`@(context.${part}.${name})`, { file: 'policy.xml', line: 1, col: 1 });
        const interpreted = outcome(() => c.evaluate(ctx, {}));
        assert.deepEqual(outcome(() => c.evaluate(ctx)), interpreted, `context.${part}.${name}`);
        if (typeof (interpreted as { value?: unknown }).value === 'string') direct++;
      }
    }
  }
  assert.ok(direct > 20, 'the string-valued properties were compared');
  assert.throws(() => compileExpression('@(context.Subscription.Id)', { file: 'policy.xml', line: 1, col: 1 }).evaluate(anonymous), (e: ExpressionRuntimeError) => e.exception === 'System.NullReferenceException');
});

test('context.Variables: indexer, GetValueOrDefault<T>, ContainsKey, TryGetValue', () => {
  const ctx = makeContext();
  ctx.variables.set('s', 'text');
  ctx.variables.set('n', 5);
  ctx.variables.set('d', 2.5);
  ctx.variables.set('b', true);
  ctx.variables.set('j', toJToken({ k: 'v' }));
  assert.equal(run('@((string)context.Variables["s"])', ctx), 'text');
  assert.equal(run('@((int)context.Variables["n"] / 2)', ctx), 2);
  assert.equal(runStr('@((double)context.Variables["d"] * 2)', ctx), '5');
  assert.equal(run('@((bool)context.Variables["b"])', ctx), true);
  assert.equal(run('@(((JObject)context.Variables["j"])["k"].ToString())', ctx), 'v');
  assert.equal(run('@(context.Variables.GetValueOrDefault<string>("s", "x"))', ctx), 'text');
  assert.equal(run('@(context.Variables.GetValueOrDefault<string>("missing", "x"))', ctx), 'x');
  assert.equal(run('@(context.Variables.GetValueOrDefault<int>("missing"))', ctx), 0);
  assert.equal(run('@(context.Variables.GetValueOrDefault<string>("missing"))', ctx), null);
  assert.equal(run('@(context.Variables.GetValueOrDefault("n"))', ctx), 5);
  assert.equal(run('@(context.Variables.ContainsKey("s") && !context.Variables.ContainsKey("zz"))', ctx), true);
  assert.equal(run('@(context.Variables.TryGetValue("s", out var v) ? v : "no")', ctx), 'text');
  assert.throws(() => run('@(context.Variables["missing"])', ctx), (e: ExpressionRuntimeError) => e.exception === 'System.Collections.Generic.KeyNotFoundException');
  assert.throws(() => run('@((string)context.Variables["n"])', ctx), (e: ExpressionRuntimeError) => e.exception === 'System.InvalidCastException');
  assert.throws(() => run('@{ context.Variables["s"] = "x"; return 1; }', ctx), /read only/);
});

test('a send-request response stored in a variable reads as IResponse', () => {
  const ctx = makeContext();
  ctx.variables.set('resp', new StoredResponse(201, { 'content-type': 'application/json', 'x-id': 'abc' }, Buffer.from('{"ok":true}')));
  assert.equal(run('@(((IResponse)context.Variables["resp"]).StatusCode)', ctx), 201);
  assert.equal(run('@(((IResponse)context.Variables["resp"]).Headers.GetValueOrDefault("X-Id", ""))', ctx), 'abc');
  assert.equal(run('@(((IResponse)context.Variables["resp"]).Body.As<JObject>()["ok"].Value<bool>())', ctx), true);
  assert.equal(run('@(context.Variables["resp"] is IResponse)', ctx), true);
  assert.throws(() => run('@((IResponse)context.Variables["resp2"])', ctx), /not present/);
});

test('context.RequestId and context.LastError', () => {
  const ctx = makeContext();
  assert.equal(runStr('@(context.RequestId)', ctx), '0f8fad5b-d9cb-469f-a165-70867728950e');
  assert.equal(run('@(context.LastError)', ctx), null);
  ctx.lastError = new GatewayError('GW_ERR_BACKEND_TIMEOUT', 'The backend did not answer in time.');
  assert.equal(run('@(context.LastError.Reason + ": " + context.LastError.Message)', ctx), 'GW_ERR_BACKEND_TIMEOUT: The backend did not answer in time.');
  assert.equal(run('@(context.LastError.Source)', ctx), null);
});
