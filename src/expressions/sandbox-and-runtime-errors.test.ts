// Runtime failures are ExpressionRuntimeErrors with C#'s exception type; the sandbox bounds time,
// memory and reach (no JS globals, prototypes or constructors).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExpressionRuntimeError, compileExpression, toBoolean, toCSharpString, toInt } from './index.ts';
import { makeContext, run } from './test-support.ts';

function failure(src: string, opts: { stepBudget?: number } = {}): ExpressionRuntimeError {
  try {
    run(src, makeContext(), opts);
  } catch (err) {
    assert.ok(err instanceof ExpressionRuntimeError, `expected ExpressionRuntimeError, got ${String(err)}`);
    assert.equal(err.code, 'GW_ERR_POLICY_EXPRESSION');
    assert.equal(err.reason, 'ExpressionValueEvaluationFailure');
    return err;
  }
  assert.fail(`expected ${src} to fail`);
}

test('unknown instance members are runtime errors naming the type and member', () => {
  // `context.Request.Nope` is a load error (context-types.ts); through a cast the type is known only at run time.
  const e = failure('@(((object)context.Request).Nope)');
  assert.equal(e.exception, 'Microsoft.CSharp.RuntimeBinder.RuntimeBinderException');
  assert.match(e.message, /'Microsoft.Azure.ApiManagement.Policies.IRequest' does not contain a definition for 'Nope'/);
  assert.deepEqual(e.pos, { file: 'policy.xml', line: 1, col: 29 });
  assert.match(failure('@("x".Foo())').message, /'System.String' does not contain a definition for 'Foo'/);
  assert.match(failure('@("x".Substring(1, 2, 3, 4))').message, /No overload for method 'Substring' takes 4 arguments/);
  assert.match(failure('@(5[0])').message, /Cannot apply indexing/);
});

test('dereferencing null is a NullReferenceException at the member', () => {
  const e = failure('@(context.User.Id)');
  assert.equal(e.exception, 'System.NullReferenceException');
  assert.match(e.message, /Object reference not set to an instance of an object/);
  assert.deepEqual(e.pos, { file: 'policy.xml', line: 1, col: 16 });
  assert.equal(failure('@(((string)null).Length)').exception, 'System.NullReferenceException');
  assert.equal(failure('@(context.Request.Body.As<JObject>()["missing"].ToString())').exception, 'System.NullReferenceException');
  assert.equal(failure('@{ string s = null; return s.Length; }').exception, 'System.NullReferenceException');
});

test('conditions must be bool', () => {
  assert.equal(failure('@(1 ? 2 : 3)').exception, 'System.InvalidCastException');
  assert.equal(failure('@{ if ("x") { return 1; } return 2; }').exception, 'System.InvalidCastException');
  assert.throws(() => toBoolean('true'), ExpressionRuntimeError);
  assert.throws(() => toBoolean(null), ExpressionRuntimeError);
  assert.equal(toBoolean(run('@(1 < 2)')), true);
});

test('numeric attributes: toInt accepts ints, integral doubles and int strings', () => {
  assert.equal(toInt(run('@(3)')), 3);
  assert.equal(toInt(run('@(3.0)')), 3);
  assert.equal(toInt(run('@("42")')), 42);
  assert.equal(toInt(run('@(JToken.Parse("7"))')), 7);
  assert.throws(() => toInt(run('@(3.5)')), ExpressionRuntimeError);
  assert.throws(() => toInt(run('@("x")')), ExpressionRuntimeError);
  assert.throws(() => toInt(null), ExpressionRuntimeError);
});

test('the step budget stops loops, recursion-like LINQ and long chains', () => {
  const e = failure('@{ while (true) { } }');
  assert.equal(e.exception, 'StepBudgetExceeded');
  assert.match(e.message, /step budget/);
  assert.equal(failure('@{ for (;;) { var x = 1; } }').exception, 'StepBudgetExceeded');
  assert.equal(failure('@(Enumerable.Range(0, 100000).Select(x => x * 2).Count())', { stepBudget: 5000 }).exception, 'StepBudgetExceeded');
  assert.equal(failure('@(1 + 2 + 3)', { stepBudget: 3 }).exception, 'StepBudgetExceeded');
  assert.equal(run('@(1 + 2 + 3)', makeContext(), { stepBudget: 5 }), 6);
  // An expression's own try/catch cannot swallow the budget.
  assert.equal(failure('@{ try { while (true) { } } catch (Exception) { return 1; } }').exception, 'StepBudgetExceeded');
  const t0 = performance.now();
  failure('@{ var n = 0; while (true) { n++; } }', { stepBudget: 1_000_000 });
  assert.ok(performance.now() - t0 < 2000);
});

test('strings and collections are capped', () => {
  assert.equal(failure('@{ var s = "x"; while (true) { s += s; } }').exception, 'StringTooLong');
  assert.equal(failure('@("x".PadLeft(20000000))').exception, 'StringTooLong');
  assert.equal(failure('@(new string(\'x\', 20000000))').exception, 'StringTooLong');
  assert.equal(failure('@(new int[2000000])').exception, 'CollectionTooLarge');
  assert.equal(failure('@(Enumerable.Range(0, 2000000))').exception, 'CollectionTooLarge');
  // Split is charged per part, so the cap is reached only with a larger budget.
  assert.equal(failure('@{ var s = "a,".PadLeft(3000000, \',\'); return s.Split(\',\').Length; }', { stepBudget: 10_000_000 }).exception, 'CollectionTooLarge');
});

test('no JS object is reachable: constructor, __proto__, prototype, globals', () => {
  for (const src of [
    '@(context.constructor)',
    '@("x".constructor)',
    '@(context.__proto__)',
    '@(context.Request.prototype)',
    '@(context.Request.toString())',
    '@("x".valueOf())',
    '@(context.Request.Headers.hasOwnProperty("x"))',
    '@(new JObject().constructor)',
    '@("x".GetType())',
  ]) {
    // A `context` member is checked when the expression compiles; anything else fails when it runs.
    if (src.includes('context.')) assert.throws(() => compileExpression(src, { file: 'f', line: 1, col: 1 }), (e: Error) => e.name === 'ExpressionCompileError');
    else failure(src);
  }
  for (const src of ['@(globalThis)', '@(process.env)', '@(require("fs"))', '@(eval("1"))', '@(Function("return 1"))', '@(this)']) {
    assert.throws(() => compileExpression(src, { file: 'f', line: 1, col: 1 }), (e: Error) => e.name === 'ExpressionCompileError');
  }
  assert.equal(run('@(new JObject()["__proto__"])'), null);
  assert.equal(run('@(JObject.Parse("{}")["constructor"])'), null);
  assert.equal(failure('@(context.Variables["__proto__"])').exception, 'System.Collections.Generic.KeyNotFoundException');
  assert.equal(run('@(context.Request.Headers.GetValueOrDefault("__proto__", "none"))'), 'none');
  assert.equal(run('@(context.Request.Headers.GetValueOrDefault("constructor", "none"))'), 'none');
});

test('JS failures inside evaluation surface as ExpressionRuntimeError', () => {
  const deep = `@(JToken.Parse("${'['.repeat(100000)}${']'.repeat(100000)}").ToString())`;
  assert.throws(() => run(deep, makeContext(), { stepBudget: 10_000_000 }), ExpressionRuntimeError);
  assert.throws(() => toCSharpString(run('@(int.Parse(null))')), ExpressionRuntimeError);
});

test('work inside library calls is charged, so big values cannot make a loop slow', () => {
  const slow = [
    '@{ var s = "a".PadLeft(4000000); var n = 0; while (true) { n += s.IndexOf("b"); } }',
    '@{ var s = "a".PadLeft(4000000); var t = "b".PadLeft(4000000); var n = 0; while (true) { if (s == t) n++; } }',
    '@{ var a = new int[1000000]; var n = 0; while (true) { n += ("" + a).Length; } }',
    '@{ var a = new int[1000000]; while (true) { a.Contains(5); } }',
    '@{ var a = JArray.Parse("[" + string.Join(",", new int[200000]) + "]"); while (true) { a.DeepClone(); } }',
    '@{ var a = new List<int>(new int[1000000]); while (true) { a.IndexOf(7); } }',
  ];
  for (const src of slow) {
    const t0 = performance.now();
    assert.throws(() => run(src), (e: ExpressionRuntimeError) => e instanceof ExpressionRuntimeError);
    const ms = performance.now() - t0;
    assert.ok(ms < 3000, `${src} took ${ms.toFixed(0)} ms`);
  }
});

test('a large JSON body stays affordable within the default budget', () => {
  const big = JSON.stringify({ input: Array.from({ length: 150_000 }, (_, i) => i % 50000), model: 'text-embedding-3-small' });
  const ctx = makeContext({ body: big });
  assert.equal(run('@(context.Request.Body.As<JObject>()["input"].Count())', ctx), 150_000);
  assert.equal(run('@(context.Request.Body.As<JObject>()["model"].ToString())', ctx), 'text-embedding-3-small');
});
