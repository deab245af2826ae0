/**
 * Hostile policy expressions: each makes one library call (or a loop of cheap ones) do far more
 * work or allocate far more memory than its step count suggests. Shared by the unit tests, the
 * gateway-level test and bench/expr-hostile.ts; every entry must end in a sandbox limit (a coded
 * failure of its request), quickly and without exhausting the heap.
 * @module
 */

export interface Hostile {
  readonly name: string;
  readonly src: string;
}

/** 8 Mi 'a's, and a string of the same length differing only in its last char. */
const PAIR = "var a = new string('a', 8000000); var b = new string('a', 7999999) + \"b\";";

export const HOSTILE: readonly Hostile[] = [
  { name: 'string.Compare loop', src: `@{ ${PAIR} var n = 0; for (var i = 0; i < 100000; i++) { n += string.Compare(a, b); } return n; }` },
  { name: 'string.Equals ignore-case loop', src: `@{ ${PAIR} var n = 0; for (var i = 0; i < 100000; i++) { if (string.Equals(a, b, StringComparison.OrdinalIgnoreCase)) n++; } return n; }` },
  { name: 'CompareOrdinal loop', src: `@{ ${PAIR} var n = 0; for (var i = 0; i < 100000; i++) { n += string.CompareOrdinal(a, b); } return n; }` },
  { name: 'HtmlEncode loop', src: `@{ var s = new string('<', 4000000); var n = 0; for (var i = 0; i < 100000; i++) { n += WebUtility.HtmlEncode(s).Length; } return n; }` },
  { name: 'Uri.EscapeUriString amplification', src: "@(Uri.EscapeUriString(new string('\u4e00', 16000000)).Length)" },
  { name: 'HtmlEncode amplification', src: "@(WebUtility.HtmlEncode(new string('\"', 16000000)).Length)" },
  { name: 'ToUpper expansion', src: "@(new string('\u00df', 16000000).ToUpper().Length)" },
  { name: 'Base64 of UTF-8 bytes', src: "@(Convert.ToBase64String(Encoding.UTF8.GetBytes(new string('\u4e00', 16000000))).Length)" },
  { name: 'Distinct of long strings', src: "@(Enumerable.Repeat(0, 5000).Select(i => new string('a', 100000 + i)).Distinct().Count())" },
  { name: 'OrderBy of long common prefixes', src: "@{ var p = new string('a', 20000); var l = new List<string>(); for (var i = 0; i < 3000; i++) { l.Add(p + i); } return l.OrderBy(x => x).First().Length; }" },
  { name: 'List.Sort of long strings', src: "@{ var p = new string('a', 200000); var l = new List<string>(); for (var i = 0; i < 3000; i++) { l.Add(p + (3000 - i)); } l.Sort(); return l[0].Length; }" },
  { name: 'StringBuilder.Insert loop', src: "@{ var sb = new StringBuilder(new string('a', 8000000)); for (var i = 0; i < 100000; i++) { sb.Insert(1, \"x\"); } return sb.Length; }" },
  { name: 'StringBuilder.Remove loop', src: "@{ var sb = new StringBuilder(new string('a', 16000000)); for (var i = 0; i < 100000; i++) { sb.Remove(1, 1); } return sb.Length; }" },
  { name: 'string += in a while loop', src: "@{ var s = \"\"; var p = new string('a', 1000000); while (true) { s += p; s = s.Substring(1); } }" },
  { name: 'string.Insert loop', src: "@{ var s = new string('a', 8000000); for (var i = 0; i < 100000; i++) { s = s.Insert(1, \"x\").Remove(1, 1); } return s.Length; }" },
  { name: 'new string(c, n) kept in a list', src: "@{ var l = new List<string>(); for (var i = 0; i < 1000; i++) { var s = new string('a', 16000000 - i); string.Compare(s, \"b\"); l.Add(s); } return l.Count; }" },
  { name: 'Replace amplification loop', src: "@{ var s = new string('a', 4000); var r = new string('b', 4000); var n = 0; for (var i = 0; i < 100000; i++) { n += s.Replace(\"a\", r).Length; } return n; }" },
  { name: 'PadLeft loop', src: "@{ var n = 0; for (var i = 0; i < 100000; i++) { n += \"x\".PadLeft(16000000 - i).Length; } return n; }" },
  { name: 'Format alignment loop', src: '@{ var n = 0; for (var i = 0; i < 100000; i++) { n += string.Format("{0,16000000}", i).Length; } return n; }' },
  { name: 'interpolation alignment loop', src: '@{ var n = 0; for (var i = 0; i < 100000; i++) { n += $"{i,16000000}".Length; } return n; }' },
  { name: 'Trim of white space loop', src: "@{ var s = new string(' ', 6000000); var n = 0; for (var i = 0; i < 100000; i++) { n += s.Trim().Length + (string.IsNullOrWhiteSpace(s) ? 1 : 0); } return n; }" },
  { name: 'Format of a long literal loop', src: "@{ var f = new string('x', 6000000); var n = 0; for (var i = 0; i < 100000; i++) { n += string.Format(f, i).Length; } return n; }" },
  { name: 'Join of a repeated string', src: "@{ var p = new string('a', 1000000); var n = 0; for (var i = 0; i < 1000; i++) { n += string.Join(\",\", Enumerable.Repeat(p, 15)).Length; } return n; }" },
  { name: 'Split into many parts', src: "@{ var s = new string(',', 999999); var n = 0; for (var i = 0; i < 1000; i++) { n += s.Split(',').Length; } return n; }" },
  { name: 'Enumerable.Range lists', src: '@{ var l = new List<int[]>(); for (var i = 0; i < 1000; i++) { l.Add(Enumerable.Range(0, 1000000).ToArray()); } return l.Count; }' },
  { name: 'foreach over a long string', src: "@{ var l = new List<object>(); for (var j = 0; j < 100; j++) { var s = new string('a', 16000000 - j); foreach (var c in s) { l.Add(c); break; } } return l.Count; }" },
  { name: 'LINQ over UTF-8 bytes', src: "@(Encoding.UTF8.GetBytes(new string('\u4e00', 16000000)).Count())" },
  { name: 'dictionary ignore-case key lookups', src: "@{ var d = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase); var k = new string('k', 16000000); d[k] = 1; var n = 0; for (var i = 0; i < 100000; i++) { n += d[k]; } return n; }" },
  { name: 'JSON parse of a large array', src: '@{ var n = 0; for (var i = 0; i < 100; i++) { n += JArray.Parse("[" + string.Join(",", Enumerable.Repeat("[0,0,0,0,0,0,0,0]", 500000)) + "]").Count; } return n; }' },
  { name: 'JSON serialize of a wide array', src: "@{ var a = new JArray(); var v = new string('a', 1000000); for (var i = 0; i < 20; i++) { a.Add(v); } var n = 0; for (var i = 0; i < 1000; i++) { n += a.ToString().Length; } return n; }" },
  { name: 'nested: Select of ToUpper in a loop', src: "@{ var s = new string('a', 1000000); var n = 0; while (true) { n += new [] { s, s, s, s }.Select(x => x.ToUpper()).Sum(x => x.Length); } }" },
  { name: 'nested: Concat of split and join', src: "@{ var s = string.Join(\",\", Enumerable.Repeat(\"abcdefgh\", 900000)); while (true) { s = string.Concat(s.Split(',').Reverse()).Substring(0, 7200000); s = string.Join(\",\", s.ToCharArray().Take(900000)); } }" },
];
