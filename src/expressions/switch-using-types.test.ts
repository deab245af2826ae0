// switch and using statements, hashing objects, System.Uri, HashSet<T>, BitConverter, and fully
// qualified System.* names (issue 17 item 1).
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { test } from 'node:test';
import { ExpressionCompileError, type ExpressionRuntimeError } from './index.ts';
import { run } from './test-support.ts';

const sw = (v: string): unknown =>
  run(`@{ var r = "none"; switch (${v}) { case "a": r = "A"; break; case "b": case "c": r = "BC"; break; case 1: r = "one"; break; case null: r = "null"; break; default: r = "D"; break; } return r; }`);

test('switch: string and int cases, shared labels, default, null', () => {
  assert.equal(sw('"a"'), 'A');
  assert.equal(sw('"c"'), 'BC');
  assert.equal(sw('"zz"'), 'D');
  assert.equal(sw('1'), 'one');
  assert.equal(sw('(string)null'), 'null');
  assert.equal(sw('context.Request.Body.As<JObject>()["model"]'), 'D');
  assert.equal(run('@{ switch ("x") { case "a": return 1; } return 2; }'), 2);
  assert.equal(run('@{ switch (\'b\') { case \'a\': return 1; case \'b\': return 2; default: return 3; } }'), 2);
  assert.equal(run('@{ switch (StringComparison.Ordinal) { case StringComparison.OrdinalIgnoreCase: return 1; case StringComparison.Ordinal: return 2; } return 3; }'), 2);
});

test('switch: break leaves the switch, continue and return pass through to the loop and block', () => {
  const src = `@{
    var s = "";
    foreach (var x in new [] { 1, 2, 3, 4 }) {
      switch (x) {
        case 2: continue;
        case 4: return s + "|end";
        default: s += x; break;
      }
      s += ";";
    }
    return s;
  }`;
  assert.equal(run(src), '1;3;|end');
  // A switch whose every section returns, with a default, ends the block.
  assert.equal(run('@{ switch (2) { case 1: return "a"; default: return "b"; } }'), 'b');
});

test('switch: C# compile rules (no fall-through, constant and distinct labels, one default)', () => {
  const bad: [string, RegExp][] = [
    ['@{ switch (1) { case 1: var a = 1; case 2: return "x"; } return "y"; }', /fall through/],
    ['@{ var y = 2; switch (1) { case y: return "a"; } return "b"; }', /constant value is expected/],
    ['@{ switch (1) { case 1: case 1: return "a"; } return "b"; }', /multiple cases with the label value '1'/],
    ['@{ switch (1) { default: return "a"; default: return "b"; } }', /multiple cases with the label value 'default'/],
    ['@{ switch (1) { case 1: return "a"; } }', /Not all code paths return a value/],
    ['@{ switch (1) { case int n when n > 0: return "a"; } return "b"; }', /./],
    ['@{ break; }', /No enclosing loop/],
  ];
  for (const [src, re] of bad) assert.throws(() => run(src), (e: Error) => e instanceof ExpressionCompileError && re.test(e.message), src);
});

test('using blocks dispose their resource however the body ends; using declarations work', () => {
  assert.equal(run('@{ using (var h = SHA256.Create()) { return h.ComputeHash(new byte[0]).Length; } }'), 32);
  assert.throws(
    () => run('@{ var h = SHA256.Create(); using (h) { } return h.ComputeHash(new byte[0]).Length; }'),
    (e: ExpressionRuntimeError) => e.exception === 'System.ObjectDisposedException',
  );
  assert.equal(run('@{ using var h = MD5.Create(); return BitConverter.ToString(h.ComputeHash(Encoding.UTF8.GetBytes("a"))); }'), '0C-C1-75-B9-C0-F1-B6-A8-31-C3-99-E2-69-77-26-61');
  assert.equal(run('@{ using (var a = SHA1.Create()) using (var b = SHA512.Create()) { return a.ComputeHash(new byte[1]).Length + b.ComputeHash(new byte[1]).Length; } }'), 84);
});

test('hashing objects match node:crypto: SHA*, MD5, HMAC*, HashData, offsets', () => {
  const hex = (algo: string, s: string): string => createHash(algo).update(s).digest('hex');
  assert.equal(run('@(BitConverter.ToString(System.Security.Cryptography.SHA256.Create().ComputeHash(System.Text.Encoding.UTF8.GetBytes("abc"))).Replace("-", "").ToLower())'), hex('sha256', 'abc'));
  assert.equal(run('@(Convert.ToBase64String(SHA384.HashData(Encoding.UTF8.GetBytes("abc"))))'), createHash('sha384').update('abc').digest('base64'));
  assert.equal(run('@(Convert.ToBase64String(new HMACSHA256(Encoding.UTF8.GetBytes("k")).ComputeHash(Encoding.UTF8.GetBytes("msg"))))'), createHmac('sha256', 'k').update('msg').digest('base64'));
  assert.equal(run('@(Convert.ToBase64String(new System.Security.Cryptography.HMACSHA1(Encoding.UTF8.GetBytes("k")).ComputeHash(Encoding.UTF8.GetBytes("msg"))))'), createHmac('sha1', 'k').update('msg').digest('base64'));
  assert.equal(run('@(Convert.ToBase64String(HMACSHA512.HashData(Encoding.UTF8.GetBytes("k"), Encoding.UTF8.GetBytes("msg"))))'), createHmac('sha512', 'k').update('msg').digest('base64'));
  assert.equal(run('@(BitConverter.ToString(SHA1.Create().ComputeHash(Encoding.UTF8.GetBytes("xabcx"), 1, 3)))'), hex('sha1', 'abc').toUpperCase().replace(/(..)(?!$)/g, '$1-'));
  assert.equal(run('@{ HMACSHA256 h = new HMACSHA256(new byte[] { 1, 2 }); return h is HashAlgorithm && h is HMAC; }'), true);
  assert.equal(run('@(BitConverter.ToString(new byte[] { 0, 15, 255 }))'), '00-0F-FF');
  assert.throws(() => run('@(new HMACSHA256(null))'), (e: ExpressionRuntimeError) => e.exception === 'System.ArgumentNullException');
});

test('System.Uri: parts as .NET returns them', () => {
  const u = 'new Uri("https://user:pw@api.example.com:8443/a/b%20c/d/?x=1&y=2#frag")';
  assert.equal(run(`@(${u}.Host)`), 'api.example.com');
  assert.equal(run(`@(${u}.AbsolutePath)`), '/a/b%20c/d/');
  assert.equal(run(`@(${u}.Query)`), '?x=1&y=2');
  assert.equal(run(`@(${u}.Scheme)`), 'https');
  assert.equal(run(`@(${u}.Port)`), 8443);
  assert.equal(run(`@(string.Join("|", ${u}.Segments))`), '/|a/|b%20c/|d/');
  assert.equal(run(`@(${u}.PathAndQuery)`), '/a/b%20c/d/?x=1&y=2');
  assert.equal(run(`@(${u}.Fragment)`), '#frag');
  assert.equal(run(`@(${u}.Authority)`), 'api.example.com:8443');
  assert.equal(run(`@(${u}.UserInfo)`), 'user:pw');
  assert.equal(run('@(new System.Uri("http://example.com").Port + "|" + new Uri("https://example.com").Port + "|" + new Uri("https://example.com").AbsolutePath)'), '80|443|/');
  assert.equal(run('@(new Uri("https://example.com/x?q=1").AbsoluteUri)'), 'https://example.com/x?q=1');
  assert.equal(run('@(new Uri(new Uri("https://example.com/a/b"), "c?d=1").AbsoluteUri)'), 'https://example.com/a/c?d=1');
  assert.equal(run('@(new Uri("/rel", UriKind.Relative).OriginalString)'), '/rel');
  assert.equal(run('@(new Uri("/rel", UriKind.RelativeOrAbsolute).IsAbsoluteUri)'), false);
  assert.equal(run('@{ Uri u; return Uri.TryCreate("nope", UriKind.Absolute, out u) + "|" + Uri.TryCreate("http://h/p", UriKind.Absolute, out u) + "|" + u.Host; }'), 'False|True|h');
  assert.equal(run('@(Uri.IsWellFormedUriString("https://h/p", UriKind.Absolute))'), true);
  assert.throws(() => run('@(new Uri("example.com/x"))'), (e: ExpressionRuntimeError) => e.exception === 'System.UriFormatException');
  assert.throws(() => run('@(new Uri("/rel", UriKind.Relative).Host)'), (e: ExpressionRuntimeError) => e.exception === 'System.InvalidOperationException');
});

test('HashSet<T>: Add, Contains, Remove, Count, comparers, initializers, set operations, LINQ', () => {
  assert.equal(run('@{ var s = new HashSet<string>(); var a = s.Add("x"); var b = s.Add("x"); return a + "|" + b + "|" + s.Count + "|" + s.Contains("x") + "|" + s.Contains("X"); }'), 'True|False|1|True|False');
  assert.equal(run('@{ var s = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "a", "B" }; return s.Contains("A") + "|" + s.Contains("b") + "|" + s.Count; }'), 'True|True|2');
  assert.equal(run('@{ var s = new System.Collections.Generic.HashSet<int>(new [] { 3, 1, 3, 2 }); return string.Join(",", s.OrderBy(x => x)) + "|" + s.Where(x => x > 1).Count() + "|" + s.Remove(3) + "|" + s.Count; }'), '1,2,3|2|True|2');
  assert.equal(run('@{ var s = new HashSet<string> { "a", "b" }; s.UnionWith(new [] { "c" }); s.ExceptWith(new [] { "a" }); return string.Join(",", s) + "|" + s.Overlaps(new [] { "c" }) + "|" + s.SetEquals(new [] { "c", "b" }); }'), 'b,c|True|True');
  assert.equal(run('@{ ISet<string> s = new HashSet<string> { "a" }; s.IntersectWith(new List<string> { "a", "z" }); return s.Count + "|" + (s is HashSet<string>); }'), '1|True');
  assert.equal(run('@{ var s = new HashSet<string>(); foreach (var m in new [] { "x", "y", "x" }) { if (s.Contains(m)) { continue; } s.Add(m); } return s.Count; }'), 2);
});

test('fully qualified System.* type names work wherever the short name does', () => {
  assert.equal(run('@(System.Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("hi")))'), 'aGk=');
  assert.equal(run('@(System.String.Join(",", new [] { "a", "b" }) + System.String.Empty)'), 'a,b');
  assert.equal(run('@(System.Math.Max(1, 2))'), 2);
  assert.equal(run('@(System.Guid.NewGuid().ToString().Length)'), 36);
  assert.equal(run('@(System.DateTime.UtcNow.Year)'), 2025);
  assert.equal(run('@(System.Int32.Parse("42") + System.Convert.ToInt32("1"))'), 43);
  assert.equal(run('@(System.Net.WebUtility.UrlEncode("a b"))'), 'a+b');
  assert.equal(run('@(System.Uri.EscapeDataString("a b"))'), 'a%20b');
  assert.equal(run('@((System.String)"x" is System.String)'), true);
  assert.equal(run('@{ var sb = new System.Text.StringBuilder(); sb.Append("a"); return sb.ToString(); }'), 'a');
  assert.equal(run('@{ var l = new System.Collections.Generic.List<System.String> { "a" }; return l.Count; }'), 1);
  assert.equal(run('@(System.Text.RegularExpressions.Regex.IsMatch("a", "a", System.Text.RegularExpressions.RegexOptions.IgnoreCase))'), true);
  assert.equal(run('@(System.Globalization.CultureInfo.InvariantCulture != null)'), true);
});

test('the sandbox holds: no reflection through the new types, hashing charged by bytes', () => {
  assert.throws(() => run('@(SHA256.Create().GetType())'), (e: ExpressionRuntimeError) => e.exception === 'System.NotSupportedException');
  assert.throws(() => run('@(new Uri("http://h/").constructor)'), (e: ExpressionRuntimeError) => /does not contain a definition/.test(e.message));
  assert.throws(
    () => run('@{ var b = new byte[1000000]; var h = SHA256.Create(); for (var i = 0; i < 1000; i++) { h.ComputeHash(b); } return 1; }'),
    (e: ExpressionRuntimeError) => /step budget/.test(e.message),
  );
});
