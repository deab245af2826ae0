// Library calls are charged by the work they do, every produced string and collection passes the
// size caps, and an evaluation's allocations are bounded. `stepsOf` finds the smallest step budget
// an expression succeeds with, so the tests pin what each family of members costs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExpressionRuntimeError } from './index.ts';
import { makeContext, run } from './test-support.ts';

const ctx = makeContext();

/** The smallest step budget `src` succeeds with (the allocation budget lifted). */
function stepsOf(src: string): number {
  const ok = (b: number): boolean => {
    try {
      run(src, ctx, { stepBudget: b, allocBudget: Number.MAX_SAFE_INTEGER });
      return true;
    } catch (err) {
      if (err instanceof ExpressionRuntimeError && err.exception === 'StepBudgetExceeded') return false;
      throw err;
    }
  };
  let hi = 1;
  while (!ok(hi)) hi *= 2;
  let lo = hi / 2;
  while (hi - lo > Math.max(1, hi / 64)) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The sandbox limit `src` stops at (stepBudget and allocBudget as given, default otherwise). */
function limitOf(src: string, opts: { stepBudget?: number; allocBudget?: number } = {}): string {
  try {
    run(src, ctx, opts);
  } catch (err) {
    assert.ok(err instanceof ExpressionRuntimeError, String(err));
    return err.exception;
  }
  return 'none';
}

function between(src: string, lo: number, hi: number): void {
  const n = stepsOf(src);
  assert.ok(n >= lo && n <= hi, `${src} costs ${n} steps, expected ${lo}..${hi}`);
}

const BIG = 10_000_000;

test('ordinary calls on small values cost no more than their nodes', () => {
  between('@(context.Request.Headers.GetValueOrDefault("x-model", "none"))', 1, 8);
  between('@("abc".ToUpper() + "def".Substring(1))', 1, 10);
  between('@(new [] { "a", "b" }.Select(x => x + "!").ToArray().Length)', 1, 25);
});

test('string members: the scan of the string, the arguments read and the result written', () => {
  // PadLeft writes 256,000 chars: ~1,000 steps (a step per 256 chars), twice (cap pre-check and result).
  between('@("a".PadLeft(256000).Length)', 1000, 2200);
  // Reading a 256,000-char argument costs ~1,000 steps, even for a static member nobody metered.
  between("@{ var a = new string('a', 256000); return string.Compare(a, a + \"\"); }", 2000, 4500);
  between("@{ var a = new string('a', 256000); return string.Equals(a, a, StringComparison.OrdinalIgnoreCase); }", 2000, 4500);
  // Each Replace match costs a step beyond the scan.
  between("@(new string('a', 20000).Replace(\"a\", \"b\").Length)", 20000, 22000);
  // Split: half a step per part.
  between("@(new string(',', 19999).Split(',').Length)", 10000, 16000);
  // string.Join of 1,000 strings of 1,000 chars reads and writes 1 M chars.
  between("@(string.Join(\",\", Enumerable.Repeat(new string('a', 1000), 1000)).Length)", 7000, 11000);
  // Interpolation alignment and string.Format count what they build.
  between('@(string.Format("{0,256000}", 1).Length)', 1000, 2500);
});

test('StringBuilder: Insert and Remove copy the whole value, Append only what it adds', () => {
  const insert = stepsOf("@{ var sb = new StringBuilder(new string('a', 256000)); for (var i = 0; i < 10; i++) { sb.Insert(0, \"x\"); } return sb.Length; }");
  const append = stepsOf("@{ var sb = new StringBuilder(new string('a', 256000)); for (var i = 0; i < 10; i++) { sb.Append(\"x\"); } return sb.Length; }");
  assert.ok(insert > append + 15000, `10 inserts into 256,000 chars cost ${insert}, 10 appends ${append}`);
});

test('amplifying transforms stop at the cap before building their whole result', () => {
  // Each would be 50-140 M chars; they fail with the cap, in well under a second, within a large budget.
  for (const src of [
    "@(Uri.EscapeUriString(new string('\u4e00', 16000000)).Length)",
    "@(Uri.EscapeDataString(new string('\u4e00', 16000000)).Length)",
    "@(WebUtility.HtmlEncode(new string('\"', 16000000)).Length)",
    "@(new string('\u00df', 16000000).ToUpper().Length)",
    "@(new JArray(new string('\u0001', 5000000)).ToString(Formatting.None).Length)",
    "@(Convert.ToBase64String(Encoding.UTF8.GetBytes(new string('\u4e00', 5000000))).Length)",
  ]) {
    const t0 = performance.now();
    assert.equal(limitOf(src, { stepBudget: 100_000_000 }), 'StringTooLong', src);
    assert.ok(performance.now() - t0 < 5000, src);
  }
  assert.equal(limitOf("@(Encoding.UTF8.GetBytes(new string('\u4e00', 6000000)).Length)", { stepBudget: BIG }), 'CollectionTooLarge');
  assert.equal(limitOf("@(new string(new string('a', 1000), 20000))", { stepBudget: BIG }), 'StringTooLong');
  // Enumerating a string or a byte array materializes it: the collection cap applies.
  assert.equal(limitOf("@{ foreach (var c in new string('a', 2000000)) { return 1; } return 0; }", { stepBudget: BIG }), 'CollectionTooLarge');
  assert.equal(limitOf("@(Encoding.UTF8.GetBytes(new string('a', 2000000)).Count())", { stepBudget: BIG }), 'CollectionTooLarge');
});

test('escaping is charged per char and per escape', () => {
  const plain = stepsOf("@(Uri.EscapeDataString(new string('a', 256000)).Length)");
  const escaped = stepsOf("@(Uri.EscapeDataString(new string(' ', 256000)).Length)");
  assert.ok(plain >= 4000, `escaping 256,000 chars costs ${plain}`);
  assert.ok(escaped > plain + 100_000, `256,000 escapes cost ${escaped}, no escapes ${plain}`);
});

test('LINQ and collections: sorting and hashing long strings, shifting, materializing', () => {
  const p = "new string('a', 100000)";
  // 200 strings sharing a 100,000-char prefix: each comparison reads the prefix.
  const sortLong = stepsOf(`@{ var p = ${p}; return Enumerable.Range(0, 200).Select(i => p + i).OrderBy(x => x).First().Length; }`);
  const sortShort = stepsOf('@(Enumerable.Range(0, 200).Select(i => "p" + i).OrderBy(x => x).First().Length)');
  assert.ok(sortLong > sortShort + 100_000, `sorting long strings costs ${sortLong}, short ${sortShort}`);
  const distinctLong = stepsOf(`@{ var p = ${p}; return Enumerable.Range(0, 100).Select(i => p + i).Distinct().Count(); }`);
  assert.ok(distinctLong > 39_000, `Distinct of 100 x 100,000 chars costs ${distinctLong}`);
  // Enumerable.Range writes its elements: a quarter step each.
  between('@(Enumerable.Range(0, 400000).Count())', 100_000, 220_000);
  // List.Insert at the front shifts the list.
  const front = stepsOf('@{ var l = new List<int>(new int[100000]); for (var i = 0; i < 20; i++) { l.Insert(0, i); } return l.Count; }');
  const back = stepsOf('@{ var l = new List<int>(new int[100000]); for (var i = 0; i < 20; i++) { l.Add(i); } return l.Count; }');
  assert.ok(front > back + 7000, `front inserts cost ${front}, appends ${back}`);
  // Case-insensitive dictionary keys are folded on every lookup.
  between("@{ var d = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase); var k = new string('k', 256000); d[k] = 1; return d[k] + d[k]; }", 3000, 7000);
});

test('JSON: parsing, cloning and printing are charged per node and per char', () => {
  const text = '"[" + string.Join(",", Enumerable.Repeat("0", 80000)) + "]"';
  // 80,000 nodes at an eighth of a step: ~10,000 steps beyond building the text.
  const parse = stepsOf(`@(JArray.Parse(${text}).Count)`) - stepsOf(`@((${text}).Length)`);
  assert.ok(parse >= 9000 && parse <= 16000, `parsing 80,000 nodes costs ${parse}`);
  between("@(new JArray(new string('a', 2560000)).ToString(Formatting.None).Length)", 20_000, 70_000);
});

test('the allocation budget bounds what one evaluation produces, kept or not', () => {
  const keep = "@{ var l = new List<string>(); for (var i = 0; i < 1000; i++) { l.Add(new string('a', 1000000 + i)); } return l.Count; }";
  assert.equal(limitOf(keep, { stepBudget: 1_000_000_000 }), 'AllocationBudgetExceeded');
  const drop = "@{ var n = 0; for (var i = 0; i < 1000; i++) { n += (new string('a', 1000000) + i).Length; } return n; }";
  assert.equal(limitOf(drop, { stepBudget: 1_000_000_000 }), 'AllocationBudgetExceeded');
  // The default budget (128 MiB) allows a few large strings; a smaller one stops sooner.
  assert.equal(run("@(new string('a', 16000000).Length)"), 16000000);
  assert.equal(limitOf("@(new string('a', 1000000).Length)", { allocBudget: 1_000_000 }), 'AllocationBudgetExceeded');
  // An expression's own try/catch cannot swallow it.
  assert.equal(limitOf("@{ try { var l = new List<string>(); while (true) { l.Add(new string('a', 1000000) + l.Count); } } catch (Exception) { return 1; } }", { stepBudget: 1_000_000_000 }), 'AllocationBudgetExceeded');
});
