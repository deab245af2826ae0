// The C# subset itself: literals, operators with C# number semantics, statements, lambdas.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExpressionRuntimeError, toCSharpString } from './index.ts';
import { run, runStr } from './test-support.ts';

const s = (src: string): string => runStr(src);

test('literals: strings with escapes, verbatim, chars, numbers, bool, null', () => {
  assert.equal(run('@("a\\tb\\n\\"q\\" \\u0041\\x42")'), 'a\tb\n"q" AB');
  assert.equal(run('@(@"C:\\path ""quoted""")'), 'C:\\path "quoted"');
  assert.equal(s("@('a')"), 'a');
  assert.equal(s("@('\\n' == '\\u000A')"), 'True');
  assert.equal(run('@(42)'), 42);
  assert.equal(run('@(0x1F + 1_000)'), 1031);
  assert.equal(s('@(10L * 3)'), '30');
  assert.equal(s('@(1.5)'), '1.5');
  assert.equal(s('@(2.0)'), '2');
  assert.equal(s('@(1e3)'), '1000');
  assert.equal(s('@(1.5f + 0.5m)'), '2');
  assert.equal(run('@(true)'), true);
  assert.equal(run('@(null)'), null);
  assert.equal(s('@(null)'), '');
});

test('interpolated strings, including nested quotes, alignment, formats and braces', () => {
  assert.equal(run('@($"sub={context.Subscription.Id}")'), 'sub=sub-1');
  assert.equal(run('@($"{context.Request.MatchedParameters["deployment-id"]}!")'), 'gpt-4!');
  assert.equal(run('@($"[{42,5}][{42,-5}][{3.14159:F2}][{1234567:N0}]")'), '[   42][42   ][3.14][1,234,567]');
  assert.equal(run('@($"{{literal}} {(1 > 0 ? "yes" : "no")}")'), '{literal} yes');
  assert.equal(run('@($@"C:\\{1 + 1}\\x")'), 'C:\\2\\x');
  assert.equal(run('@($"{DateTime.UtcNow:yyyy-MM-dd}")'), '2025-01-15');
});

test('integer and double arithmetic keep C# semantics', () => {
  assert.equal(run('@(7 / 2)'), 3);
  assert.equal(run('@(-7 / 2)'), -3);
  assert.equal(s('@(7.0 / 2)'), '3.5');
  assert.equal(s('@(7 / 2.0)'), '3.5');
  assert.equal(run('@(7 % 3)'), 1);
  assert.equal(run('@(-7 % 3)'), -1);
  assert.equal(run('@((int)3.9)'), 3);
  assert.equal(run('@((int)-3.9)'), -3);
  assert.equal(s('@((double)7 / 2)'), '3.5');
  assert.equal(run('@((long)5)'), 5);
  assert.equal(s('@(1.0 / 0)'), 'Infinity');
  assert.equal(s('@(0.1 + 0.2)'), '0.30000000000000004');
  assert.equal(run('@(2 + 3 * 4 - (1 + 1))'), 12);
  assert.equal(run('@(1 << 4 | 1)'), 17);
  assert.equal(run('@(256 >> 2)'), 64);
  assert.equal(run('@(6 & 3 ^ 1)'), 3);
  assert.equal(run('@(~0)'), -1);
  assert.equal(run('@(-(-5))'), 5);
  assert.throws(() => run('@(1 / 0)'), (e: ExpressionRuntimeError) => e.exception === 'System.DivideByZeroException');
  assert.equal(run("@('a' + 1)"), 98);
});

test('string concatenation uses C# ToString of each operand', () => {
  assert.equal(run('@("n=" + 1 + 2)'), 'n=12');
  assert.equal(run('@(1 + 2 + "=n")'), '3=n');
  assert.equal(run('@("b=" + true + ",x=" + null + "," + 2.50)'), 'b=True,x=,2.5');
  assert.equal(run("@(\"c\" + 'h')"), 'ch');
});

test('comparison, equality, logic, ternary and null operators', () => {
  assert.equal(run('@(1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 3)'), true);
  assert.equal(run('@(1 == 1.0)'), true);
  assert.equal(run('@("a" == "a" && "a" != "A")'), true);
  assert.equal(run('@(!(1 == 2) || false)'), true);
  assert.equal(run('@(false && (1 / 0 == 0))'), false);
  assert.equal(run('@(true ? "x" : "y")'), 'x');
  assert.equal(run('@(null ?? "fallback")'), 'fallback');
  assert.equal(run('@(context.User?.Id ?? "nobody")'), 'nobody');
  assert.equal(run('@(context.User?.Email.Length)'), null);
  assert.equal(run('@((string)null == null)'), true);
  assert.equal(run('@(context.Request.Body.As<JObject>()["missing"]?["deeper"])'), null);
  assert.equal(run('@(DateTime.UtcNow > DateTime.UtcNow.AddSeconds(-1))'), true);
});

test('casts, is and as', () => {
  assert.equal(run('@((object)"x" is string)'), true);
  assert.equal(run('@(5 is string)'), false);
  assert.equal(run('@(context.Request.Body.As<JObject>() is JObject)'), true);
  assert.equal(run('@(context.Request.Body.As<JObject>() as JArray)'), null);
  assert.equal(run('@(null is string)'), false);
  assert.equal(run('@(context.User is null)'), true);
  assert.equal(run('@(context.Api is not null)'), true);
  assert.equal(run('@{ object o = "abc"; if (o is string t) { return t.Length; } return -1; }'), 3);
  assert.equal(s('@((bool)true)'), 'True');
  assert.equal(s("@((char)65)"), 'A');
  assert.equal(run("@((int)'A')"), 65);
  assert.throws(() => run('@((string)(object)5)'), (e: ExpressionRuntimeError) => e.exception === 'System.InvalidCastException');
  assert.throws(() => run('@((JObject)(object)"x")'), /Unable to cast/);
});

test('blocks: locals, typed locals with implicit conversion, assignment, compound assignment, ++/--', () => {
  assert.equal(run('@{ var x = 1; x += 2; x *= 3; x -= 1; x /= 2; x %= 3; return x; }'), 1);
  assert.equal(s('@{ double d = 5; return d / 2; }'), '2.5');
  assert.equal(run('@{ int i = 0; i++; ++i; i--; return i; }'), 1);
  assert.equal(run('@{ int i = 5; var a = i++; var b = ++i; return a * 10 + b; }'), 57);
  assert.equal(run('@{ string s = "a"; s += "b"; s += 1; return s; }'), 'ab1');
  assert.equal(run('@{ string a = "x", b = "y"; return a + b; }'), 'xy');
  assert.equal(run('@{ string s = null; s ??= "d"; return s; }'), 'd');
  assert.equal(run('@{ int n; n = 4; return n; }'), 4);
  assert.equal(run('@{ JToken t = "str"; return t.Type.ToString(); }'), 'String');
  assert.throws(() => run('@{ string s = 5; return s; }'), /Cannot implicitly convert type 'System.Int32' to 'string'/);
  assert.throws(() => run('@{ int n = 1.5; return n; }'), /Cannot implicitly convert/);
});

test('control flow: if/else, while, do, for, foreach, break, continue', () => {
  assert.equal(run('@{ if (1 > 2) { return "a"; } else if (2 > 1) { return "b"; } else { return "c"; } }'), 'b');
  assert.equal(run('@{ var i = 0; while (i < 10) { i++; if (i == 7) break; } return i; }'), 7);
  assert.equal(run('@{ var i = 0; do { i += 2; } while (i < 5); return i; }'), 6);
  assert.equal(run('@{ var sum = 0; for (var i = 0; i < 10; i++) { if (i % 2 == 0) continue; sum += i; } return sum; }'), 25);
  assert.equal(run('@{ int a = 0, b = 0; for (a = 0, b = 10; a < b; a++, b--) { } return a; }'), 5);
  assert.equal(run('@{ var s = ""; foreach (var x in new [] { "a", "b", "c" }) { s += x; } return s; }'), 'abc');
  assert.equal(run('@{ var n = 0; foreach (char c in "hello") { if (c == \'l\') n++; } return n; }'), 2);
  assert.equal(run('@{ var s = 0; foreach (JToken m in context.Request.Body.As<JObject>()["messages"]) { s += m["content"].ToString().Length; } return s; }'), 29);
  assert.equal(run('@{ while (true) { return "out"; } }'), 'out');
});

test('try/catch/finally and throw', () => {
  assert.equal(run('@{ try { return int.Parse("x"); } catch (FormatException) { return -1; } }'), -1);
  assert.equal(run('@{ try { throw new InvalidOperationException("boom"); } catch (Exception ex) { return ex.Message; } }'), 'boom');
  assert.equal(run('@{ var s = "a"; try { s += "b"; } finally { s += "c"; } return s; }'), 'abc');
  assert.throws(() => run('@{ throw new ArgumentException("bad arg"); }'), (e: ExpressionRuntimeError) => e.exception === 'System.ArgumentException' && /bad arg/.test(e.message));
  assert.throws(() => run('@{ try { var x = (string)null; return x.Length; } catch (FormatException) { return 0; } }'), /Object reference not set/);
  assert.throws(() => run('@{ try { return int.Parse("x"); } catch (Exception) { throw; } }'), /was not in a correct format/);
});

test('lambdas with one, two and typed parameters and block bodies', () => {
  assert.equal(s('@(new [] { 1, 2, 3 }.Select(x => x * 2).Sum())'), '12');
  assert.equal(run('@(string.Join(",", new [] { "a", "b" }.Select((x, i) => x + i)))'), 'a0,b1');
  assert.equal(run('@(new [] { "a", "bb" }.Where((string x) => x.Length > 1).First())'), 'bb');
  assert.equal(run('@(new [] { 1, 2, 3 }.Select(x => { var y = x * 10; return y + 1; }).Last())'), 31);
  assert.equal(run('@{ var k = 2; return new [] { 1, 2, 3 }.Count(x => x >= k); }'), 2);
});

test('new arrays, lists, dictionaries and anonymous objects', () => {
  assert.equal(run('@(new string[] { "a", "b" }.Length)'), 2);
  assert.equal(run('@(new int[3][1])'), 0);
  assert.equal(run('@{ int[] a = { 1, 2 }; a[1] = 5; return a[0] + a[1]; }'), 6);
  assert.equal(run('@{ var l = new List<string> { "a" }; l.Add("b"); l.Insert(0, "z"); return string.Join("", l) + l.Count; }'), 'zab3');
  assert.equal(run('@{ var d = new Dictionary<string, int> { { "a", 1 }, ["b"] = 2 }; d["a"] += 10; return d["a"] + d["b"] + d.Count; }'), 15);
  assert.equal(run('@{ var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase); d["Key"] = "v"; string o; return d.TryGetValue("KEY", out o) ? o : "none"; }'), 'v');
  assert.equal(s('@(new { Name = "n", Count = 2 })'), '{ Name = n, Count = 2 }');
  assert.equal(run('@(new { context.Request.Method }.Method)'), 'POST');
});

test('out arguments: out var, out with an existing local, discards', () => {
  assert.equal(run('@(int.TryParse("42", out var n) ? n + 1 : -1)'), 43);
  assert.equal(run('@{ int n; var ok = int.TryParse("x", out n); return ok + ":" + n; }'), 'False:0');
  assert.equal(run('@(int.TryParse("7", out _))'), true);
  assert.equal(run('@(context.Variables.TryGetValue("nope", out var v) ? "yes" : "no")'), 'no');
});

test('comments and whitespace are ignored', () => {
  assert.equal(run('@( /* a */ 1 + // line\n 2 )'), 3);
  assert.equal(run('@{\n  // set up\n  var x = 1; /* block */\n  return x;\n}'), 1);
});

test('default values and qualified type names', () => {
  assert.equal(run('@(default(int))'), 0);
  assert.equal(run('@(default(string))'), null);
  assert.equal(run('@(System.Math.Max(1, 2))'), 2);
  assert.equal(run('@(System.String.IsNullOrEmpty(""))'), true);
  assert.equal(toCSharpString(run('@(Newtonsoft.Json.Linq.JObject.Parse("{}"))')), '{}');
});

test('List<T> and Dictionary<K,V> members', () => {
  assert.equal(run('@{ var l = new List<int> { 3, 1, 2 }; l.Sort(); l.Remove(2); l.Add(9); return string.Join(",", l) + ":" + l.IndexOf(9) + l.Contains(3); }'), '1,3,9:2True');
  assert.equal(run('@{ var l = new List<string>(new [] { "a", "bb", "ccc" }); l.RemoveAt(0); return l.Find(x => x.Length == 3) + l.Exists(x => x == "bb") + l[0]; }'), 'cccTruebb');
  assert.equal(run('@{ var d = new Dictionary<string, string>(); d.Add("k", "v"); var s = ""; foreach (var kv in d) { s += kv.Key + "=" + kv.Value; } return s + d.ContainsKey("k") + d.Remove("k") + d.Count; }'), 'k=vTrueTrue0');
  assert.equal(run('@(new Dictionary<string, int> { { "a", 1 } }.GetValueOrDefault("b", 7))'), 7);
  assert.throws(() => run('@(new Dictionary<string, int>()["x"])'), /was not present in the dictionary/);
  assert.throws(() => run('@(new List<int>()[0])'), /Index was out of range/);
});

test('seeded Random is deterministic; unseeded uses the injected source', () => {
  assert.equal(run('@(new Random(42).Next(100))'), run('@(new Random(42).Next(100))'));
  assert.equal(run('@(new Random().Next(10, 20))', undefined, { random: () => 0.99 }), 19);
  assert.equal(runStr('@(new Random().NextDouble())', undefined, { random: () => 0.25 }), '0.25');
});
