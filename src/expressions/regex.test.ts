// Regular expressions in policy expressions: .NET's Regex surface on a linear-time engine (RE2).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExpressionCompileError, type ExpressionRuntimeError } from './index.ts';
import { translate } from './regex-translate.ts';
import { run } from './test-support.ts';

test('Regex static members: IsMatch, Match, Matches, Replace, Split, Escape, with options', () => {
  assert.equal(run('@(Regex.IsMatch("Hello World", "world"))'), false);
  assert.equal(run('@(Regex.IsMatch("Hello World", "world", RegexOptions.IgnoreCase))'), true);
  assert.equal(run('@(System.Text.RegularExpressions.Regex.IsMatch("abc", "^a.c$"))'), true);
  assert.equal(run('@(Regex.Match("order 42 and 7", @"\\d+").Value)'), '42');
  assert.equal(run('@(Regex.Match("order 42", @"\\d+").Index)'), 6);
  assert.equal(run('@(Regex.Match("order 42", @"\\d+").Length)'), 2);
  assert.equal(run('@(Regex.Match("none", @"\\d+").Success)'), false);
  assert.equal(run('@(Regex.Match("none", @"\\d+").Value)'), '');
  assert.equal(run('@(Regex.Matches("a1b22c333", @"\\d+").Count)'), 3);
  assert.equal(run('@(Regex.Matches("a1b22c333", @"\\d+")[2].Value)'), '333');
  assert.equal(run('@(string.Join(",", Regex.Matches("a1b22c333", @"\\d+").Cast<Match>().Select(m => m.Value)))'), '1,22,333');
  assert.equal(run('@(Regex.Replace("a-b_c", "[-_]", "+"))'), 'a+b+c');
  assert.equal(run('@(string.Join("|", Regex.Split("a, b;c", @"[,;]\\s*")))'), 'a|b|c');
  assert.equal(run('@(Regex.Escape("a.b*c (d) #1"))'), 'a\\.b\\*c\\ \\(d\\)\\ \\#1');
  assert.equal(run('@(Regex.Unescape(@"a\\.b\\n"))'), 'a.b\n');
  assert.equal(run('@(Regex.IsMatch("x a.b (c) #1 y", Regex.Escape("a.b (c) #1")) && !Regex.IsMatch("aXb", Regex.Escape("a.b")))'), true);
  assert.equal(run('@(Regex.IsMatch("line1\\nline2", "^line2$", RegexOptions.Multiline))'), true);
  assert.equal(run('@(Regex.IsMatch("line1\\nline2", "^line2$"))'), false);
  assert.equal(run('@(Regex.IsMatch("a\\nb", "a.b", RegexOptions.Singleline))'), true);
  assert.equal(run('@(Regex.IsMatch("a\\nb", "a.b"))'), false);
  assert.equal(run('@(Regex.IsMatch("ab12", @"^ [a-z]+ # letters\n \\d+ $", RegexOptions.IgnorePatternWhitespace))'), true);
  assert.equal(run('@(Regex.IsMatch("ABC", "abc", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled))'), true);
  assert.equal(run('@(Regex.IsMatch("ABC", "(?i)abc"))'), true);
  assert.equal(run('@((RegexOptions.IgnoreCase | RegexOptions.Multiline).ToString())'), 'IgnoreCase, Multiline');
});

test('groups by number and by name, numbered as .NET numbers them (unnamed first)', () => {
  const m = 'Regex.Match("on 2024-05-06", @"(?<year>\\d{4})-(\\d\\d)-(?\'day\'\\d\\d)")';
  assert.equal(run(`@(${m}.Groups["year"].Value)`), '2024');
  assert.equal(run(`@(${m}.Groups["day"].Value)`), '06');
  // .NET: unnamed groups come first (1 = month), then named groups in order (2 = year, 3 = day).
  assert.equal(run(`@(${m}.Groups[1].Value + "/" + ${m}.Groups[2].Value + "/" + ${m}.Groups[3].Value)`), '05/2024/06');
  assert.equal(run(`@(${m}.Groups[0].Value)`), '2024-05-06');
  assert.equal(run(`@(${m}.Groups.Count)`), 4);
  assert.equal(run(`@(${m}.Groups["year"].Index)`), 3);
  assert.equal(run(`@(${m}.Groups["nope"].Success)`), false);
  assert.equal(run('@(Regex.Match("ab", "(a)|(b)").Groups[2].Success)'), false);
  assert.equal(run('@(Regex.Match("ab", "(?n)(a)(?<x>b)").Groups.Count)'), 2);
  assert.equal(run('@(Regex.Match("a1 b2", @"\\w\\d").NextMatch().Value)'), 'b2');
  assert.equal(run('@(Regex.Match("john smith", @"(\\w+) (\\w+)").Result("$2 $1"))'), 'smith john');
});

test('Replace substitutions as .NET: $n, ${name}, $$, $&, $`, $\', $+, $_, unknown groups stay literal', () => {
  assert.equal(run('@(Regex.Replace("john smith", @"(\\w+) (\\w+)", "$2, $1"))'), 'smith, john');
  assert.equal(run('@(Regex.Replace("john smith", @"(?<f>\\w+) (?<l>\\w+)", "${l} ${f}"))'), 'smith john');
  assert.equal(run('@(Regex.Replace("x", "x", "$$ $& [$`] [$\'] $_"))'), '$ x [] [] x');
  assert.equal(run('@(Regex.Replace("ab", "(a)(b)", "$+"))'), 'b');
  assert.equal(run('@(Regex.Replace("ab", "(a)", "$2 ${zz} $"))'), '$2 ${zz} $b');
  assert.equal(run('@(Regex.Replace("ab", "(a)", "$10"))'), 'a0b');
  assert.equal(run('@(Regex.Replace("abc", "[ac]", m => m.Value.ToUpper()))'), 'AbC');
  assert.equal(run('@(new Regex("a").Replace("aaaa", "b", 2))'), 'bbaa');
});

test('empty matches and Split follow .NET (captured groups included)', () => {
  assert.equal(run('@(string.Join("|", Regex.Split("abc", "")))'), '|a|b|c|');
  assert.equal(run('@(Regex.Matches("baaa", "a*").Count)'), 3);
  assert.equal(run('@(Regex.Replace("abc", "x*", "-"))'), '-a-b-c-');
  assert.equal(run('@(string.Join("|", Regex.Split("a1b22c", @"(\\d+)")))'), 'a|1|b|22|c');
  assert.equal(run('@(string.Join("|", new Regex(",").Split("a,b,c", 2)))'), 'a|b,c');
});

test('instance form: new Regex(pattern, options), fully qualified, foreach over Matches', () => {
  const src = `@{
    var r = new System.Text.RegularExpressions.Regex(@"(?<k>\\w+)=(?<v>\\d+)", RegexOptions.IgnoreCase);
    var s = "";
    foreach (Match m in r.Matches("a=1; B=22")) { s += m.Groups["k"].Value + ":" + m.Groups["v"].Value + ";"; }
    return s + r.IsMatch("x=9") + r.ToString() + r.Options;
  }`;
  assert.equal(run(src), 'a:1;B:22;True(?<k>\\w+)=(?<v>\\d+)IgnoreCase');
  assert.equal(run('@(new Regex("b").IsMatch("abc", 2))'), false);
  assert.equal(run('@(new Regex("b").Match("abcb", 2).Index)'), 3);
  assert.equal(run('@(string.Join(",", new Regex("(?<a>x)(y)").GetGroupNames()))'), '0,1,a');
});

test('.NET character classes are Unicode-aware; \\u escapes are translated', () => {
  assert.equal(run('@(Regex.IsMatch("été", @"^\\w+$"))'), true);
  assert.equal(run('@(Regex.Match("prix: ١٢٣", @"\\d+").Value)'), '١٢٣');
  assert.equal(run('@(Regex.Replace("a\\u00a0b", @"\\s", "_"))'), 'a_b');
  assert.equal(run('@(Regex.Replace("a<b", @"\\u003c", "&lt;"))'), 'a&lt;b');
  assert.equal(run('@(Regex.IsMatch("a]b", @"[]]"))'), true);
});

test('the pii-deanonymization fragment\'s fully qualified Regex.Replace works as in APIM', () => {
  // From ai-hub-gateway-solution-accelerator frag-pii-deanonymization.xml (verbatim expressions).
  const src = `@{
    var content = "x \\\\u003cPERSON_0\\\\u003e y";
    content = System.Text.RegularExpressions.Regex.Replace(content, @"\\\\u003c", "<");
    content = System.Text.RegularExpressions.Regex.Replace(content, @"\\\\u003e", ">");
    return content;
  }`;
  assert.equal(run(src), 'x <PERSON_0> y');
});

test('a constant pattern the engine cannot run is a load error naming the construct', () => {
  const cases: [string, RegExp][] = [
    ['@(Regex.IsMatch("x", @"(a)\\1"))', /backreference \(\\1\)/],
    ['@(Regex.IsMatch("x", @"(?<n>a)\\k<n>"))', /named backreference/],
    ['@(new Regex("foo(?=bar)"))', /lookahead/],
    ['@(new Regex("(?<!x)y", RegexOptions.None))', /lookbehind/],
    ['@(Regex.Replace("x", "(?>a+)", ""))', /atomic group/],
    ['@(Regex.IsMatch("x", "(?(a)b|c)"))', /conditional/],
    ['@(Regex.IsMatch("x", "[a-z-[aeiou]]"))', /subtraction/],
    ['@(Regex.IsMatch("x", @"\\Gx"))', /\\G/],
    ['@(Regex.IsMatch("x", "(?<a-b>x)"))', /balancing group/],
    ['@(Regex.IsMatch("x", "a("))', /Not enough \)/],
    ['@(Regex.IsMatch("x", "x", RegexOptions.RightToLeft))', /RightToLeft/],
  ];
  for (const [src, re] of cases) {
    assert.throws(() => run(src), (e: Error) => e instanceof ExpressionCompileError && re.test(e.message), src);
  }
});

test('a pattern built at run time is compiled then (cached); an invalid one is a catchable ArgumentException', () => {
  assert.equal(run('@{ var p = "b+"; return Regex.Match("abbbc", p).Value; }'), 'bbb');
  assert.equal(run('@{ try { return Regex.IsMatch("x", "(" + "?=x)"); } catch (ArgumentException e) { return "bad: " + e.Message.Contains("lookahead"); } }'), 'bad: True');
  assert.throws(
    () => run('@{ var p = "(a)\\\\1"; return Regex.IsMatch("aa", p); }'),
    (e: ExpressionRuntimeError) => e.exception === 'System.Text.RegularExpressions.RegexParseException',
  );
});

test('catastrophic-backtracking patterns run in linear time; long inputs are charged to the step budget', () => {
  const long = 'a'.repeat(200_000);
  assert.equal(run(`@(Regex.IsMatch(new string('a', ${long.length}) + "b", "(a+)+$"))`), false);
  assert.equal(run(`@(Regex.IsMatch(new string('a', 30) + "!", @"^(\\w+\\s?)*$"))`), false);
  // A scan the step budget cannot pay for is refused before it runs.
  assert.throws(
    () => run(`@(Regex.IsMatch(new string('a', 16000000), "(a|b|c|d|e|f)+x"))`),
    (e: ExpressionRuntimeError) => e.reason === 'StepBudgetExceeded' || /step budget/.test(e.message),
  );
});

test('Matches that rescan the rest of a long input at every match stop at the regex time cap', () => {
  // `a*b|a` on a run of a's: every search reads to the end (quadratic even for RE2).
  assert.throws(
    () => run(`@(Regex.Matches(new string('a', 200000), "a*b|a").Count)`, undefined, { stepBudget: 10_000_000 }),
    (e: ExpressionRuntimeError) => /Regular-expression matching took longer/.test(e.message),
  );
});

test('translate: .NET group numbering and option handling', () => {
  const t = translate('(?<y>a)(b)(?:c)(?#note)(d)', { x: false, n: false });
  assert.deepEqual(t.names, ['0', '1', '2', 'y']);
  assert.deepEqual(t.numbers, [0, 2, 3, 1]);
  assert.equal(t.source, '(?P<y>a)(b)(?:c)(d)');
  assert.equal(translate('a b # c\n d', { x: true, n: false }).source, 'abd');
  assert.equal(translate('(?x: a b )c d', { x: false, n: false }).source, '(?:ab)c d');
  assert.equal(translate('(a)(?n:(b))', { x: false, n: false }).names.length, 2);
});
