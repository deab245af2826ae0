// Newtonsoft.Json.Linq as expressions see it: reading and editing bodies, Newtonsoft's JSON text,
// implicit and explicit conversions, and the gateway's plain-JSON boundary.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ExpressionRuntimeError, fromJToken, toCSharpString, toJToken } from './index.ts';
import { makeContext, run, runStr } from './test-support.ts';

const body = 'context.Request.Body.As<JObject>(preserveContent: true)';

test('reading a body: indexers, Value<T>, conversions, Property, Properties', () => {
  assert.equal(run(`@(${body}["model"].ToString())`), 'gpt-4o');
  assert.equal(run(`@(${body}["messages"][1]["content"].Value<string>())`), 'What is APIM?');
  assert.equal(run(`@(${body}.Value<string>("model"))`), 'gpt-4o');
  assert.equal(run(`@(${body}.Value<int>("missing"))`), 0);
  assert.equal(run(`@(${body}["stream"].Value<bool>())`), true);
  assert.equal(run(`@((string)${body}["model"])`), 'gpt-4o');
  assert.equal(run(`@((bool)${body}["stream"])`), true);
  assert.equal(run(`@(${body}.Property("model")?.Value?.ToString())`), 'gpt-4o');
  assert.equal(run(`@(${body}.Property("nope")?.Value?.ToString() ?? "none")`), 'none');
  assert.equal(run(`@(${body}["model"] == "gpt-4o")`), true);
  assert.equal(run(`@(${body}["model"] != "gpt-4")`), true);
  assert.equal(run(`@(${body}["nope"] == null)`), true);
  assert.equal(run(`@(${body}.ContainsKey("stream") && !${body}.ContainsKey("x"))`), true);
  assert.equal(run(`@(${body}.Count)`), 3);
  assert.equal(run(`@(${body}["messages"].Type == JTokenType.Array)`), true);
  assert.equal(run(`@(${body}["model"].Type.ToString())`), 'String');
  assert.equal(run(`@(${body}["messages"].HasValues)`), true);
  assert.equal(run(`@(${body}["messages"][0]["role"].Path)`), 'messages[0].role');
  assert.equal(run(`@((string)${body}.SelectToken("messages[1].role"))`), 'user');
  assert.equal(run(`@(${body}.SelectToken("$.nope.deeper"))`), null);
  assert.equal(run(`@(${body}.TryGetValue("model", out var m) ? m.ToString() : "")`), 'gpt-4o');
  assert.equal(run(`@(string.Join(",", ${body}.Properties().Select(p => p.Name)))`), 'model,stream,messages');
  assert.equal(run('@(context.Request.Body.As<JObject>(true)["model"].ToString())'), 'gpt-4o');
  assert.equal(run('@(context.Request.Body.As<string>().Length > 10)'), true);
  assert.equal(run('@(context.Request.Body.As<byte[]>().Length > 10)'), true);
  assert.equal(run('@(context.Request.Body.As<JArray>(true).Count)', makeContext({ body: '[1,2]' })), 2);
  assert.equal(run('@(context.Request.Body)', makeContext({ body: '' })), null);
  assert.equal(run('@(context.Request.Body?.As<JObject>(preserveContent:true) ?? new JObject())', makeContext({ body: null })) !== null, true);
});

test('editing a parsed body never changes what the gateway holds', () => {
  const ctx = makeContext();
  const before = ctx.request.body?.toString();
  assert.equal(run('@{ var b = context.Request.Body.As<JObject>(); b["model"] = "changed"; b.Remove("stream"); return b["model"].ToString(); }', ctx), 'changed');
  assert.equal(run('@(context.Request.Body.As<JObject>()["model"].ToString())', ctx), 'gpt-4o');
  assert.equal(ctx.request.body?.toString(), before);
});

test('building JSON: JObject/JArray/JProperty/JValue, indexer set, Add, Remove', () => {
  assert.equal(run('@(new JObject().ToString())'), '{}');
  assert.equal(run('@(new JArray().ToString())'), '[]');
  assert.equal(
    run('@(new JObject(new JProperty("a", 1), new JProperty("b", new JArray(1, "x", true, null, 2.5, 1.0)), new JProperty("c", new JObject())).ToString())'),
    '{\n  "a": 1,\n  "b": [\n    1,\n    "x",\n    true,\n    null,\n    2.5,\n    1.0\n  ],\n  "c": {}\n}',
  );
  assert.equal(run('@(new JObject(new JProperty("a", new JObject(new JProperty("b", "c")))).ToString(Formatting.None))'), '{"a":{"b":"c"}}');
  assert.equal(
    run('@{ var o = new JObject(); o["x"] = 1; o["y"] = "s"; o["x"] = 2; o.Add("z", new JArray { 1, 2 }); o["n"] = null; o.Remove("y"); return o.ToString(Formatting.None); }'),
    '{"x":2,"z":[1,2],"n":null}',
  );
  assert.equal(run('@{ var a = new JArray(); a.Add("x"); a.Add(new JObject { { "k", "v" } }); a[0] = "y"; a.RemoveAt(1); a.Insert(0, 5); return a.ToString(Formatting.None); }'), '[5,"y"]');
  assert.equal(run('@{ var o = JObject.Parse("{\\"a\\":{\\"b\\":1}}"); o["a"]["b"] = 2; o["a"]["c"] = true; return o.ToString(Formatting.None); }'), '{"a":{"b":2,"c":true}}');
  assert.equal(run('@(new JObject(new JProperty("list", new [] { "a", "b" })).ToString(Formatting.None))'), '{"list":["a","b"]}');
  assert.equal(run('@(new JObject(new [] { 1, 2 }.Select(i => new JProperty("k" + i, i))).ToString(Formatting.None))'), '{"k1":1,"k2":2}');
  assert.equal(run('@(new JValue("raw").ToString() + new JValue(5).ToString() + new JValue(true).ToString())'), 'raw5True');
  assert.equal(run('@(new JObject { ["a"] = 1 }.ToString(Formatting.None))'), '{"a":1}');
  assert.throws(() => run('@{ var o = new JObject(); o.Add("a", 1); o.Add("a", 2); return o; }'), (e: ExpressionRuntimeError) => e.exception === 'System.ArgumentException');
});

test("Newtonsoft's string escaping and number formats", () => {
  assert.equal(run('@(new JObject(new JProperty("s", "q\\"b\\\\n\\n\\t\\u0001é<>")).ToString(Formatting.None))'), '{"s":"q\\"b\\\\n\\n\\t\\u0001é<>"}');
  assert.equal(run('@(new JArray(1e20, 0.1, -0.0, 100.0, 12345678901L).ToString(Formatting.None))'), '[1E+20,0.1,-0.0,100.0,12345678901]');
  assert.equal(run('@(JToken.Parse("[1.5, 2, \\"x\\"]").ToString(Formatting.None))'), '[1.5,2,"x"]');
});

test('a token added where it already has a parent is copied, as in Newtonsoft', () => {
  // The first container takes `a` itself; the second gets a copy.
  assert.equal(
    run('@{ var a = new JObject { { "v", 1 } }; var b = new JObject(new JProperty("first", a)); var c = new JObject(new JProperty("second", a)); a["v"] = 2; return b.ToString(Formatting.None) + c.ToString(Formatting.None); }'),
    '{"first":{"v":2}}{"second":{"v":1}}',
  );
  assert.equal(run('@{ var src = JObject.Parse("{\\"x\\":{\\"y\\":1}}"); var copy = new JObject(new JProperty("x", src["x"])); copy["x"]["y"] = 9; return src.ToString(Formatting.None); }'), '{"x":{"y":1}}');
});

test('parsing: JObject.Parse, JArray.Parse, JToken.Parse, errors', () => {
  assert.equal(run('@(JObject.Parse("{\\"a\\": [1, {\\"b\\": null}]}")["a"][1]["b"].Type.ToString())'), 'Null');
  assert.equal(run('@(JArray.Parse("[1,2,3]").Count)'), 3);
  assert.equal(run('@((int)JToken.Parse("42") + 1)'), 43);
  assert.throws(() => run('@(JObject.Parse("[1]"))'), (e: ExpressionRuntimeError) => e.exception === 'Newtonsoft.Json.JsonReaderException');
  assert.throws(() => run('@(JObject.Parse("{bad"))'), (e: ExpressionRuntimeError) => e.exception === 'Newtonsoft.Json.JsonReaderException');
  assert.throws(() => run('@(JObject.Parse("{}")["a"]["b"])'), /Object reference not set/);
  assert.throws(() => run('@(JObject.Parse("{\\"a\\":1}")["a"]["b"])'), (e: ExpressionRuntimeError) => /Cannot access child value/.test(e.message));
  assert.throws(() => run('@((int)JObject.Parse("{\\"a\\":\\"x\\"}")["a"])'), (e: ExpressionRuntimeError) => e.exception === 'System.FormatException');
});

test('FromObject, ToObject, JsonConvert', () => {
  assert.equal(run('@(JObject.FromObject(new { a = 1, b = "x" }).ToString(Formatting.None))'), '{"a":1,"b":"x"}');
  assert.equal(run('@(JsonConvert.SerializeObject(new { a = new [] { 1, 2 } }))'), '{"a":[1,2]}');
  assert.equal(run('@(JsonConvert.SerializeObject("s"))'), '"s"');
  assert.equal(run('@(JsonConvert.DeserializeObject<JObject>("{\\"a\\":1}")["a"].Value<int>())'), 1);
  assert.equal(run('@(JArray.Parse("[\\"a\\",\\"b\\"]").ToObject<List<string>>().Count)'), 2);
  assert.equal(run('@(JArray.Parse("[\\"a\\",\\"b\\"]").Values<string>().Last())'), 'b');
});

test('toJToken and fromJToken exchange plain JSON with the gateway', () => {
  const token = toJToken({ a: [1, 2.5, 'x', null, true], b: { c: {} } });
  assert.equal(toCSharpString(token), '{\n  "a": [\n    1,\n    2.5,\n    "x",\n    null,\n    true\n  ],\n  "b": {\n    "c": {}\n  }\n}');
  assert.deepEqual(fromJToken(token), { a: [1, 2.5, 'x', null, true], b: { c: {} } });
  const ctx = makeContext();
  ctx.variables.set('reqBody', token);
  assert.equal(runStr('@(((JObject)context.Variables["reqBody"])["a"][2])', ctx), 'x');
  const edited = run('@{ var o = (JObject)context.Variables["reqBody"]; o["added"] = 1; return o; }', ctx);
  assert.deepEqual(fromJToken(edited), { a: [1, 2.5, 'x', null, true], b: { c: {} }, added: 1 });
  const evil = fromJToken(run('@(JObject.Parse("{\\"__proto__\\": {\\"polluted\\": 1}}"))')) as Record<string, unknown>;
  assert.equal(Object.hasOwn(evil, '__proto__'), true);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(fromJToken('s'), 's');
});

test('token navigation and editing: Children, First/Last/Next, Remove, Replace, DeepClone, Merge, JValue.Value', () => {
  const doc = '@{ var o = JObject.Parse("{\\"a\\":1,\\"b\\":[10,20,30],\\"c\\":{\\"d\\":true}}"); ';
  assert.equal(run(`${doc}return o["b"].First.ToString() + o["b"].Last + o["b"][0].Next + o.Children().Count(); }`), '1030203');
  assert.equal(run(`${doc}o["b"][1].Remove(); o.Property("a").Remove(); return o.ToString(Formatting.None); }`), '{"b":[10,30],"c":{"d":true}}');
  assert.equal(run(`${doc}o["c"]["d"].Replace(new JValue("x")); return o["c"].ToString(Formatting.None); }`), '{"d":"x"}');
  assert.equal(run(`${doc}var copy = o.DeepClone(); copy["a"] = 2; return o["a"].ToString() + copy["a"]; }`), '12');
  assert.equal(run(`${doc}o.Merge(JObject.Parse("{\\"a\\":5,\\"b\\":[40],\\"c\\":{\\"e\\":1}}")); return o.ToString(Formatting.None); }`), '{"a":5,"b":[10,20,30,40],"c":{"d":true,"e":1}}');
  assert.equal(run(`${doc}var v = (JValue)o["a"]; v.Value = "now a string"; return o.ToString(Formatting.None); }`), '{"a":"now a string","b":[10,20,30],"c":{"d":true}}');
  assert.equal(run(`${doc}var p = o.Property("a"); p.Value = new JArray(1); return o.ToString(Formatting.None); }`), '{"a":[1],"b":[10,20,30],"c":{"d":true}}');
  assert.equal(run(`${doc}var s = ""; foreach (var kv in o) { s += kv.Key; } foreach (JProperty p in o.Properties()) { s += p.Name; } return s; }`), 'abcabc');
  assert.equal(run(`${doc}return o.SelectToken("c.d").Value<bool>() && o.SelectToken("b[2]").Value<int>() == 30; }`), true);
  assert.throws(() => run(`${doc}return o.SelectToken("$..d"); }`), (e: ExpressionRuntimeError) => e.exception === 'Newtonsoft.Json.JsonException');
  assert.equal(run('@(JToken.DeepEquals(JObject.Parse("{\\"a\\":[1]}"), JObject.Parse("{\\"a\\": [1]}")))'), true);
  assert.equal(run('@(JArray.Parse("[\\"a\\",\\"b\\"]").Contains("b"))'), true);
});
