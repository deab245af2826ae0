// Compile errors carry the exact document position of the offending token.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExpressionCompileError, compileExpression, isExpression } from './index.ts';

const AT = { file: 'policies/api.xml', line: 12, col: 30 };

function errorOf(raw: string, pos = AT): ExpressionCompileError {
  try {
    compileExpression(raw, pos);
  } catch (err) {
    assert.ok(err instanceof ExpressionCompileError, `expected ExpressionCompileError, got ${String(err)}`);
    assert.equal(err.code, 'GW_ERR_POLICY_EXPRESSION_COMPILE');
    return err;
  }
  assert.fail(`expected ${raw} not to compile`);
}

function at(raw: string, line: number, col: number, message: RegExp): void {
  const err = errorOf(raw);
  assert.deepEqual(err.pos, { file: AT.file, line, col }, `${raw}: ${err.message}`);
  assert.match(err.detail, message);
  assert.equal(err.message, err.detail);
}

test('isExpression recognizes @( and @{ after trimming', () => {
  assert.equal(isExpression('@(1)'), true);
  assert.equal(isExpression('  @{ return 1; }'), true);
  assert.equal(isExpression('plain'), false);
  assert.equal(isExpression('@x'), false);
  assert.equal(isExpression('email@(x)'), false);
});

test('unknown names, static members and types point at the token', () => {
  at('@(foo.Bar)', 12, 32, /The name 'foo' does not exist/);
  at('@(context.Request.Method + bar)', 12, 57, /The name 'bar' does not exist/);
  at('@(Math.Foo(1))', 12, 37, /'Math' does not contain a definition for 'Foo'/);
  at('@(DateTime.Utcnow)', 12, 41, /'DateTime' does not contain a definition for 'Utcnow'/);
  at('@((Foo)context)', 12, 33, /type or namespace name 'Foo' could not be found/);
  at('@(context.Request.Body.As<XDocument>())', 12, 56, /'XDocument' could not be found/);
  at('@(new Socket())', 12, 36, /'Socket' could not be found/);
  at('@(Math)', 12, 32, /'Math' is a type/);
  at('@(Math.Max(1))', 12, 37, /No overload for method 'Max' takes 1 arguments/);
  at('@(Foo(1))', 12, 32, /The name 'Foo' does not exist/);
});

test('an unknown context member is a compile error at the member, with the closest known one', () => {
  at('@(context.Subscription.Idd)', 12, 53, /'ISubscription' does not contain a definition for 'Idd'; did you mean 'Id'\?/);
  at('@(context.Requst.Method)', 12, 40, /'IProxyRequestContext' does not contain a definition for 'Requst'; did you mean 'Request'\?/);
  at('@(context.Request.Headers.GetValueOrDefult("a", ""))', 12, 56, /'IReadOnlyDictionary' does not contain a definition for 'GetValueOrDefult'; did you mean 'GetValueOrDefault'\?/);
  at('@{ var b = context.Response?.Body.As<JObject>(); return context.Deployment.Gateway.Idd; }', 12, 113, /'IGateway' does not contain a definition for 'Idd'; did you mean 'Id'\?/);
  at('@(context.Request.Url.Frobnicate)', 12, 52, /'IUrl' does not contain a definition for 'Frobnicate'$/);
});

test('every member of APIM\'s context reference compiles, LINQ and object methods included', () => {
  for (const src of [
    '@(context.Api.ServiceUrl.Host + context.Api.SubscriptionKeyParameterNames.Header + context.Api.Workspace.Name)',
    '@(context.Deployment.GatewayId + context.Deployment.Gateway.InstanceId + context.Deployment.Region)',
    '@(context.Product.ApprovalRequired || context.Product.SubscriptionRequired)',
    '@(context.User.Email + context.User.FirstName + context.User.Identities)',
    '@(context.Request.PrivateEndpointConnection.GroupId)',
    '@(context.Subscription.CreatedDate)',
    '@(context.Request.Headers.Where(h => h.Key.StartsWith("x-")).Count())',
    '@(context.Variables.ContainsKey("a") && context.Request.MatchedParameters.Any())',
    '@(context.Request.Url.ToString().Length + context.Elapsed.TotalMilliseconds)',
    '@{ context.Trace("seen"); return context.GraphQL == null; }',
  ]) {
    assert.doesNotThrow(() => compileExpression(src, { file: 'f', line: 1, col: 1 }), src);
  }
});

test('syntax errors point at the unexpected token', () => {
  at('@(1 + )', 12, 36, /Invalid expression term '\)'/);
  at('@(1 2)', 12, 34, /'\)' expected, found a number/);
  at('@(context.Subscription.Id', 12, 55, /'\)' expected/);
  at('@("unterminated)', 12, 32, /Newline in constant/);
  at("@('ab')", 12, 32, /Too many characters in character literal/);
  at('@(x => x)', 12, 32, /lambda expression is only supported as a method argument/);
  at('@(1 # 2)', 12, 34, /Unexpected character '#'/);
  at('@(typeof(string))', 12, 32, /'typeof' is not supported/);
  at('@($"{}")', 12, 34, /Expression expected in interpolation hole/);
  at('@(1) trailing', 12, 35, /Unexpected 'trailing' after the expression/);
});

test('positions in multi-line blocks count lines and columns from the @', () => {
  at('@{\n  var x = 1;\n  return y;\n}', 14, 10, /The name 'y' does not exist/);
  at('@{\n    var a = 1;\n    var a = 2;\n    return a;\n}', 14, 9, /'a' is already defined/);
  at('@{\n  if (true) { return 1; }\n}', 14, 1, /Not all code paths return a value/);
  at('@{\n  lock (x) { }\n  return 1;\n}', 13, 3, /'lock' statements are not supported/);
  at('@{\n  switch (1) {\n    case 2: return 1;\n  }\n}', 16, 1, /Not all code paths return a value/);
  at('@{\n  1 + 2;\n  return 1;\n}', 13, 3, /Only assignment, call, increment, decrement and new object expressions/);
  at('@{\n  break;\n}', 13, 3, /No enclosing loop/);
  at('@{\n  return;\n}', 13, 3, /must return a value/);
  at('@{ return 1; ', 12, 43, /'\}' expected/);
  at('@{\n  foreach (var m in context.Request.Headers) { m = null; }\n  return 1;\n}', 13, 48, /foreach iteration variable/);
  at('@(\n  context.Request.Body.As<JObject>()["messages"]\n    .Any(m => m["content"].ToString().Contains(unknown)))', 14, 48, /The name 'unknown' does not exist/);
});

test('a raw value with leading whitespace keeps positions relative to its @', () => {
  const err = errorOf('   @(nope)');
  assert.deepEqual(err.pos, { file: AT.file, line: 12, col: 32 });
  assert.deepEqual(errorOf('not an expression').pos, { file: AT.file, line: 12, col: 30 });
});

test('pathological nesting is a compile error, not a crash', () => {
  const deep = `@(${'('.repeat(5000)}1${')'.repeat(5000)})`;
  assert.match(errorOf(deep).detail, /nested too deeply/);
  const chain = `@(${Array.from({ length: 3000 }, () => '1').join(' + ')})`;
  assert.doesNotThrow(() => compileExpression(chain, AT));
});
