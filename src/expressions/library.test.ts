// The .NET library surface: string methods, formatting, parsing, Math, Convert, DateTime, TimeSpan,
// Guid, Encoding, Uri, StringBuilder, LINQ.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ExpressionRuntimeError } from './index.ts';
import { run, runStr } from './test-support.ts';

const s = (src: string): string => runStr(src);

test('string members', () => {
  assert.equal(run('@("Hello".Length)'), 5);
  assert.equal(s('@("Hello"[1])'), 'e');
  assert.equal(run('@("Hello".Contains("ell") && "Hello".StartsWith("He") && "Hello".EndsWith("lo"))'), true);
  assert.equal(run('@("Hello".StartsWith("he", StringComparison.OrdinalIgnoreCase))'), true);
  assert.equal(run('@("Hello".Contains("ELL", StringComparison.OrdinalIgnoreCase))'), true);
  assert.equal(run('@("Hello".Equals("hello", StringComparison.OrdinalIgnoreCase))'), true);
  assert.equal(run('@("Hello".ToLower() + "Hello".ToUpper() + "x".ToUpperInvariant() + "Y".ToLowerInvariant())'), 'helloHELLOXy');
  assert.equal(run('@("Hello".Substring(1) + "|" + "Hello".Substring(1, 3))'), 'ello|ell');
  assert.equal(run('@("a,b,,c".IndexOf(",") + "a,b,,c".LastIndexOf(",") + "abc".IndexOf(\'c\') + "abc".IndexOf("z"))'), 1 + 4 + 2 - 1);
  assert.equal(run('@("abcabc".IndexOf("b", 2))'), 4);
  assert.equal(run('@(string.Join("|", "a,b,,c".Split(\',\')))'), 'a|b||c');
  assert.equal(run('@(string.Join("|", "a, b;c".Split(new [] { ", ", ";" }, StringSplitOptions.None)))'), 'a|b|c');
  assert.equal(run('@(string.Join("|", "a,,b".Split(\',\', StringSplitOptions.RemoveEmptyEntries)))'), 'a|b');
  assert.equal(run('@(string.Join("|", "a=b=c".Split(\'=\', 2)))'), 'a|b=c');
  assert.equal(run('@(string.Join("|", "a;b,c".Split(\';\', \',\')))'), 'a|b|c');
  assert.equal(run('@("Bearer abc".Split(\' \')[1])'), 'abc');
  assert.equal(run('@("a-b-c".Replace("-", "+").Replace(\'+\', \'/\'))'), 'a/b/c');
  assert.equal(run('@("  x  ".Trim() + "|" + "//x//".Trim(\'/\') + "|" + "xxa".TrimStart(\'x\') + "|" + "a  ".TrimEnd())'), 'x|x|a|a');
  assert.equal(run('@("7".PadLeft(3, \'0\') + "|" + "ab".PadRight(4) + "|")'), '007|ab  |');
  assert.equal(run('@("abc".Insert(1, "X").Remove(0, 1))'), 'Xbc');
  assert.equal(run('@(string.IsNullOrEmpty("") && string.IsNullOrEmpty(null) && string.IsNullOrWhiteSpace("  ") && !string.IsNullOrEmpty("a"))'), true);
  assert.equal(run('@(string.Concat("a", 1, true) + string.Empty + String.Concat(new [] { "x", "y" }))'), 'a1Truexy');
  assert.equal(run('@(new string(\'-\', 3))'), '---');
  assert.equal(run('@(string.Equals("a", "A", StringComparison.OrdinalIgnoreCase))'), true);
  assert.throws(() => run('@("abc".Substring(5))'), (e: ExpressionRuntimeError) => e.exception === 'System.ArgumentOutOfRangeException');
  assert.throws(() => run('@("abc"[3])'), (e: ExpressionRuntimeError) => e.exception === 'System.IndexOutOfRangeException');
});

test('string.Format and ToString formats, invariant culture', () => {
  assert.equal(run('@(string.Format("{0} {1:N0} {2:F1} {0}", "a", 1234567, 2.25))'), 'a 1,234,567 2.3 a');
  assert.equal(run('@(string.Format("[{0,4}|{1,-4}] {{x}}", 1, 2))'), '[   1|2   ] {x}');
  assert.equal(run('@(12.ToString("D4") + " " + 255.ToString("X") + " " + 255.ToString("x4") + " " + 0.125.ToString("P1"))'), '0012 FF 00ff 12.5 %');
  assert.equal(run('@(1234.5.ToString("N2") + " " + 3.14159.ToString("0.00") + " " + 1234567.ToString("#,##0"))'), '1,234.50 3.14 1,234,567');
  assert.equal(s('@(1e20)'), '1E+20');
  assert.equal(s('@(0.00001)'), '1E-05');
  assert.equal(s('@(123456789.125)'), '123456789.125');
  assert.throws(() => run('@(string.Format("{1}", "a"))'), (e: ExpressionRuntimeError) => e.exception === 'System.FormatException');
});

test('parsing numbers and booleans', () => {
  assert.equal(run('@(int.Parse(" 42 ") + long.Parse("-7"))'), 35);
  assert.equal(s('@(double.Parse("1.5") * 2)'), '3');
  assert.equal(run('@(bool.Parse("True") && bool.Parse("false") == false)'), true);
  assert.equal(run('@(int.TryParse("12x", out var n) ? n : n - 1)'), -1);
  assert.equal(run('@(double.TryParse("2.5", out var d) ? d.ToString() : "no")'), '2.5');
  assert.throws(() => run('@(int.Parse("1.5"))'), (e: ExpressionRuntimeError) => e.exception === 'System.FormatException');
  assert.throws(() => run('@(int.Parse("99999999999"))'), (e: ExpressionRuntimeError) => e.exception === 'System.OverflowException');
  assert.equal(run('@(int.MaxValue)'), 2147483647);
});

test('Math and Convert', () => {
  assert.equal(run('@(Math.Max(3, 7) + Math.Min(3, 7) + Math.Abs(-2))'), 12);
  assert.equal(s('@(Math.Max(3, 7.5))'), '7.5');
  assert.equal(s('@(Math.Floor(2.7) + Math.Ceiling(2.1))'), '5');
  assert.equal(s('@(Math.Round(2.5) + "," + Math.Round(3.5) + "," + Math.Round(2.345, 2) + "," + Math.Round(2.5, MidpointRounding.AwayFromZero))'), '2,4,2.35,3');
  assert.equal(s('@(Math.Pow(2, 10))'), '1024');
  assert.equal(run('@((int)Math.Sqrt(16))'), 4);
  assert.equal(run('@(Convert.ToInt32("12") + Convert.ToInt32(2.5) + Convert.ToInt32(3.5))'), 12 + 2 + 4);
  assert.equal(run('@(Convert.ToBase64String(Encoding.UTF8.GetBytes("héllo")))'), Buffer.from('héllo').toString('base64'));
  assert.equal(run('@(Encoding.UTF8.GetString(Convert.FromBase64String("aMOpbGxv")))'), 'héllo');
  assert.throws(() => run('@(Convert.FromBase64String("***"))'), (e: ExpressionRuntimeError) => e.exception === 'System.FormatException');
  assert.equal(run('@(Encoding.UTF8.GetBytes("abc").Length)'), 3);
  assert.equal(run('@(Uri.EscapeDataString("a b&c=d/é!"))'), 'a%20b%26c%3Dd%2F%C3%A9%21');
  assert.equal(run('@(Uri.UnescapeDataString("a%20b"))'), 'a b');
});

test('DateTime, DateTimeOffset, TimeSpan and Guid', () => {
  assert.equal(run('@(DateTime.UtcNow.ToString("o"))'), '2025-01-15T13:45:12.1234375Z');
  assert.equal(run('@(DateTime.Now.ToString("o"))'), '2025-01-15T13:45:12.1234375+00:00');
  assert.equal(run('@(DateTime.UtcNow.ToString("s") + " " + DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss.fff"))'), '2025-01-15T13:45:12 2025-01-15 13:45:12.123');
  assert.equal(run('@(DateTime.UtcNow.ToString("R"))'), 'Wed, 15 Jan 2025 13:45:12 GMT');
  assert.equal(run('@(DateTime.UtcNow.ToString("u"))'), '2025-01-15 13:45:12Z');
  assert.equal(run('@(DateTime.UtcNow.ToString("dddd, MMMM d, yyyy h:mm tt"))'), 'Wednesday, January 15, 2025 1:45 PM');
  assert.equal(s('@(DateTime.UtcNow)'), '01/15/2025 13:45:12');
  assert.equal(run('@(DateTime.UtcNow.AddMinutes(30).AddDays(1).ToString("o"))'), '2025-01-16T14:15:12.1234375Z');
  assert.equal(run('@(DateTime.UtcNow.AddMonths(1).Month + DateTime.UtcNow.Year + DateTime.UtcNow.Day)'), 2 + 2025 + 15);
  assert.equal(run('@(DateTime.UtcNow.Ticks)'), 638725455121234375);
  assert.equal(run('@(DateTime.Parse("2024-03-01T10:00:00Z").ToUniversalTime().ToString("o"))'), '2024-03-01T10:00:00.0000000Z');
  assert.equal(run('@(DateTime.Parse("2024-03-01").ToString("o"))'), '2024-03-01T00:00:00.0000000');
  assert.equal(s('@((DateTime.Parse("2024-03-02T00:00:00Z") - DateTime.Parse("2024-03-01T12:00:00Z")).TotalHours)'), '12');
  assert.equal(run('@(DateTimeOffset.UtcNow.ToUnixTimeSeconds())'), 1736948712);
  assert.equal(s('@(TimeSpan.FromSeconds(90))'), '00:01:30');
  assert.equal(s('@(TimeSpan.FromSeconds(1.5).TotalMilliseconds)'), '1500');
  assert.equal(s('@(new TimeSpan(1, 2, 3, 4).TotalSeconds)'), '93784');
  assert.equal(s('@(new TimeSpan(1, 2, 3, 4))'), '1.02:03:04');
  assert.match(s('@(Guid.NewGuid())'), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.match(run('@(Guid.NewGuid().ToString("N"))') as string, /^[0-9a-f]{32}$/);
  assert.equal(s('@(Guid.Parse("{0F8FAD5B-D9CB-469F-A165-70867728950E}"))'), '0f8fad5b-d9cb-469f-a165-70867728950e');
  assert.equal(run('@(context.Elapsed.TotalMilliseconds >= 0)'), true);
});

test('StringBuilder', () => {
  assert.equal(run('@{ var sb = new StringBuilder(); sb.Append("a").Append(1).AppendLine("!"); sb.AppendFormat("{0}-{1}", "x", 2); return sb.ToString(); }'), 'a1!\nx-2');
});

test('LINQ over arrays, lists and JSON', () => {
  const arr = 'new [] { 3, 1, 2, 3 }';
  assert.equal(run(`@(${arr}.Any())`), true);
  assert.equal(run(`@(${arr}.Any(x => x > 2))`), true);
  assert.equal(run(`@(${arr}.All(x => x > 0))`), true);
  assert.equal(run(`@(string.Join(",", ${arr}.Where(x => x != 3)))`), '1,2');
  assert.equal(run(`@(${arr}.First() * 10 + ${arr}.Last())`), 33);
  assert.equal(run(`@(${arr}.First(x => x < 3))`), 1);
  assert.equal(run(`@(${arr}.FirstOrDefault(x => x > 5))`), null);
  assert.equal(run(`@(${arr}.Count() + ${arr}.Count(x => x == 3))`), 6);
  assert.equal(run(`@(${arr}.Sum())`), 9);
  assert.equal(run(`@(${arr}.Max() - ${arr}.Min())`), 2);
  assert.equal(s(`@(${arr}.Average())`), '2.25');
  assert.equal(run(`@(string.Join(",", ${arr}.OrderBy(x => x)))`), '1,2,3,3');
  assert.equal(run(`@(string.Join(",", ${arr}.OrderByDescending(x => x).Distinct()))`), '3,2,1');
  assert.equal(run(`@(string.Join(",", ${arr}.Skip(1).Take(2)))`), '1,2');
  assert.equal(run(`@(${arr}.Contains(2))`), true);
  assert.equal(run(`@(${arr}.ToList().Count)`), 4);
  assert.equal(run(`@(${arr}.ToArray().Length)`), 4);
  assert.equal(run(`@(string.Join(",", ${arr}.Select(x => x.ToString()).Reverse()))`), '3,2,1,3');
  assert.equal(run('@(string.Join(",", new [] { "b", "a", "C" }.OrderBy(x => x)))'), 'a,b,C');
  assert.throws(() => run('@(new int[0].First())'), (e: ExpressionRuntimeError) => e.exception === 'System.InvalidOperationException');
  assert.equal(run('@(context.Request.Body.As<JObject>()["messages"].Select(m => (string)m["role"]).Last())'), 'user');
  assert.equal(run('@(context.Request.Body.As<JObject>()["messages"].Where(m => m["role"].ToString() == "user").Count())'), 1);
  assert.equal(run('@(context.Request.Body.As<JObject>().Properties().Select(p => p.Name).First())'), 'model');
  assert.equal(run('@(Enumerable.Range(1, 4).Sum())'), 10);
});
