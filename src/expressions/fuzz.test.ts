// Fuzzing with a seeded PRNG: random token soup, mutated seed expressions and grammar-generated
// expressions. Whatever the input, compile succeeds or throws ExpressionCompileError; evaluate
// returns or throws ExpressionRuntimeError, quickly; and no JS function or prototype comes back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExpressionCompileError, ExpressionRuntimeError, compileExpression, toCSharpString } from './index.ts';
import { FIXED_NOW, makeContext } from './test-support.ts';
import { Host } from './values.ts';
import { createPrng } from '../util/hash.ts';


const SEEDS = [
  '@(context.Subscription.Id)',
  '@(context.Response.Headers.GetValueOrDefault("x-ms-prompt-tokens", "0"))',
  '@("token-usage-" + context.Subscription.Id)',
  '@(context.Response.StatusCode == 429 || context.Response.StatusCode >= 500)',
  '@(context.Request.Body.As<JObject>()["messages"].Any(m => m["content"].ToString().Contains("ignore previous instructions")))',
  '@(context.Request.MatchedParameters["deployment-id"] == "gpt-4")',
  '@{ return new JObject(new JProperty("error", "AI Gateway Error"), new JProperty("requestId", context.RequestId.ToString())).ToString(); }',
  '@{ var backends = new [] { "https://a", "https://b" }; var index = new Random().Next(backends.Length); return backends[index]; }',
  '@{ var b = new [] { "a", "b" }; var i = Array.IndexOf(b, (string)context.Variables["backendUrl"]); return b[(i + 1) % b.Length]; }',
  '@(context.Request.Body.As<JObject>()["stream"]?.Value<bool>() == true ? "text/event-stream" : "application/json")',
  '@{ var sum = 0; for (var i = 0; i < 10; i++) { if (i % 2 == 0) continue; sum += i; } return $"{sum:N2} {DateTime.UtcNow:o}"; }',
  '@{ var d = new Dictionary<string, int>(); foreach (var c in "hello") { var k = c.ToString(); d[k] = d.ContainsKey(k) ? d[k] + 1 : 1; } return string.Join(",", d.Keys); }',
  '@{ try { return int.Parse("x"); } catch (FormatException ex) { return ex.Message.Length; } }',
  '@(string.Format("{0:D3}-{1}", 7, Math.Round(2.5)) + Convert.ToBase64String(Encoding.UTF8.GetBytes("hi")))',
];

const VOCAB = [
  'context', '.', 'Request', 'Response', 'Body', 'As', '<', '>', 'JObject', 'JArray', '(', ')', '[', ']', '{', '}', '"x"', '"messages"', '1', '0', '2.5',
  "'c'", '+', '-', '*', '/', '%', '==', '!=', '<=', '&&', '||', '!', '?', ':', '??', '?.', '=>', 'x', 'm', 'var', 'return', ';', 'new', 'JProperty',
  ',', 'Any', 'Select', 'Where', 'First', 'int', 'string', 'Parse', 'ToString', 'if', 'else', 'while', 'for', 'foreach', 'in', 'true', 'false', 'null',
  '$"a{1}b"', '@"v"', 'Math', 'Max', '=', '+=', '++', '--', 'is', 'as', 'out', 'Headers', 'GetValueOrDefault', 'Variables', 'Subscription', 'Id',
  'constructor', '__proto__', 'prototype', 'break', 'continue', 'try', 'catch', 'finally', 'throw', 'Exception', '/* c */', '// c\n', '\n', 'Length',
  'Split', 'Join', 'Count', 'default', 'typeof', 'this', 'DateTime', 'UtcNow', 'Guid', 'NewGuid', 'Random', 'Next', '1e309', '0x7fffffff', '"\\u0041"',
];

function tokenSoup(r: () => number): string {
  const n = 1 + Math.floor(r() * 25);
  const toks = Array.from({ length: n }, () => VOCAB[Math.floor(r() * VOCAB.length)] ?? '');
  return r() < 0.5 ? `@(${toks.join(' ')})` : `@{ ${toks.join(' ')} }`;
}

function mutate(r: () => number): string {
  let s = SEEDS[Math.floor(r() * SEEDS.length)] ?? '';
  const edits = 1 + Math.floor(r() * 4);
  for (let k = 0; k < edits; k++) {
    const i = Math.floor(r() * s.length);
    const j = Math.min(s.length, i + 1 + Math.floor(r() * 6));
    switch (Math.floor(r() * 5)) {
      case 0:
        s = s.slice(0, i) + s.slice(j);
        break;
      case 1:
        s = s.slice(0, i) + (VOCAB[Math.floor(r() * VOCAB.length)] ?? '') + s.slice(i);
        break;
      case 2:
        s = s.slice(0, i) + s.slice(i, j) + s.slice(i);
        break;
      case 3:
        s = s.slice(0, i) + String.fromCharCode(32 + Math.floor(r() * 95)) + s.slice(j);
        break;
      default:
        s = s.slice(0, i) + s.slice(j, j + 3) + s.slice(i, j) + s.slice(j + 3);
    }
  }
  return s;
}

/** Grammar-generated expressions: mostly well-formed, so evaluation paths get exercised. */
function grammar(r: () => number, depth = 0): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  if (depth > 4 || r() < 0.25) {
    return pick([
      '1', '7', '2.5', '"s"', 'true', 'null', "'q'", 'context.Subscription.Id', 'context.Request.Method', 'context.Response.StatusCode',
      'context.Request.Body.As<JObject>()', 'context.Request.Body.As<JObject>()["messages"]', 'new [] { 3, 1, 2 }', 'DateTime.UtcNow',
      'context.Variables["v"]', 'context.Request.Headers', 'new JObject(new JProperty("a", 1))', 'JArray.Parse("[1,\\"x\\",null]")',
    ]);
  }
  const a = (): string => grammar(r, depth + 1);
  switch (Math.floor(r() * 9)) {
    case 0:
      return `(${a()} ${pick(['+', '-', '*', '/', '%', '==', '!=', '<', '>=', '&&', '||', '??', '&', '<<'])} ${a()})`;
    case 1:
      return `(${a()} ? ${a()} : ${a()})`;
    case 2:
      return `((${pick(['string', 'int', 'double', 'bool', 'JObject', 'JToken', 'object'])})${a()})`;
    case 3:
      return `${a()}.${pick(['ToString()', 'Length', 'Count', 'Any()', 'First()', 'Type', 'Value<string>()', 'ToUpper()', 'Trim()', 'Contains("a")'])}`;
    case 4:
      return `${a()}?.${pick(['ToString()', 'Id', 'Count()', 'Last()'])}`;
    case 5:
      return `${a()}[${pick(['0', '1', '"a"', '"messages"', '-1'])}]`;
    case 6:
      return `${a()}.${pick(['Select', 'Where', 'Any', 'Count', 'OrderBy'])}(x => ${a()})`;
    case 7:
      return `$"{${a()}}-{${a()},3}"`;
    default:
      return `string.Join(",", ${a()})`;
  }
}

function checkValue(v: unknown, depth = 0): void {
  assert.notEqual(typeof v, 'function');
  assert.notEqual(typeof v, 'symbol');
  assert.notEqual(v, undefined);
  if (typeof v !== 'object' || v === null) return;
  assert.ok(v instanceof Host || v instanceof Uint8Array || Array.isArray(v), `unexpected object ${Object.prototype.toString.call(v)}`);
  if (Array.isArray(v) && depth < 3) for (const x of (v as unknown[]).slice(0, 50)) checkValue(x, depth + 1);
}

function exercise(src: string, ctx: ReturnType<typeof makeContext>): 'compile-error' | 'runtime-error' | 'ok' {
  let compiled;
  try {
    compiled = compileExpression(src, { file: 'fuzz.xml', line: 3, col: 7 });
  } catch (err) {
    assert.ok(err instanceof ExpressionCompileError, `compile of ${JSON.stringify(src)} threw ${String(err)}`);
    assert.ok(err.pos.line >= 3 && err.pos.col >= 1, JSON.stringify(err.pos));
    return 'compile-error';
  }
  const t0 = performance.now();
  try {
    const v = compiled.evaluate(ctx, { stepBudget: 20_000, now: () => FIXED_NOW, random: () => 0.5 });
    checkValue(v);
    try {
      assert.equal(typeof toCSharpString(v), 'string');
    } catch (err) {
      assert.ok(err instanceof ExpressionRuntimeError, `toCSharpString threw ${String(err)}`);
    }
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof ExpressionRuntimeError, `evaluate of ${JSON.stringify(src)} threw ${String(err)}`);
    return 'runtime-error';
  } finally {
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `evaluate of ${JSON.stringify(src)} took ${ms.toFixed(0)} ms`);
  }
}

test('fuzz: random token sequences, mutated seeds and generated expressions stay inside the error contract', () => {
  const r = createPrng(20250115);
  const ctx = makeContext();
  ctx.response = { status: 200, headers: { 'x-ms-prompt-tokens': '3' }, body: { kind: 'empty' } };
  ctx.variables.set('backendUrl', 'https://a');
  ctx.variables.set('v', 'variable');
  const tally = { 'compile-error': 0, 'runtime-error': 0, ok: 0 };
  for (let i = 0; i < 1500; i++) tally[exercise(tokenSoup(r), ctx)]++;
  for (let i = 0; i < 1500; i++) tally[exercise(mutate(r), ctx)]++;
  for (let i = 0; i < 1500; i++) tally[exercise(`@(${grammar(r)})`, ctx)]++;
  // Every branch of the contract was exercised.
  assert.ok(tally['compile-error'] > 100 && tally['runtime-error'] > 100 && tally.ok > 100, JSON.stringify(tally));
});
