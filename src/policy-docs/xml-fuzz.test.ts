import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyDocError, type PolicyElement } from './element.ts';
import { parsePolicyXml, parseXmlElements } from './xml-reader.ts';
import { readPolicyDocument } from './read.ts';
import { createPrng } from '../util/hash.ts';
import { seedBlocks } from '../../test/helpers/policy-docs.ts';




// Characters that matter to the reader, so mutations hit its branches rather than plain text.
const ALPHABET = ['<', '>', '/', '"', "'", '=', '&', ';', '@', '(', ')', '{', '}', '$', '\\', '!', '-', '[', ']', '?', '\n', '\r', ' ', 'a', '#', '*', '\uD83D'];
const SNIPPETS = ['<!--', '-->', '<![CDATA[', ']]>', '&amp;', '&quot;', '&#x41;', '@(', '@{', '$"', '@"', '</', '/>', '{{x}}', '<inbound>', '</retry>'];

function mutate(text: string, rnd: () => number): string {
  let out = text;
  const edits = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < edits; k++) {
    const at = Math.floor(rnd() * (out.length + 1));
    const op = Math.floor(rnd() * 4);
    if (op === 0) {
      out = out.slice(0, at) + out.slice(at + 1 + Math.floor(rnd() * 3));
    } else if (op === 1) {
      out = out.slice(0, at) + ALPHABET[Math.floor(rnd() * ALPHABET.length)]! + out.slice(at);
    } else if (op === 2) {
      out = out.slice(0, at) + SNIPPETS[Math.floor(rnd() * SNIPPETS.length)]! + out.slice(at);
    } else {
      const len = 1 + Math.floor(rnd() * 40);
      out = out.slice(0, at) + out.slice(at, at + len) + out.slice(at);
    }
  }
  return out;
}

function countElements(el: PolicyElement): number {
  return 1 + el.children.reduce((n, c) => n + countElements(c), 0);
}

function checkOutcome(text: string, run: () => PolicyElement | PolicyElement[]): 'ok' | 'error' {
  try {
    const result = run();
    for (const el of Array.isArray(result) ? result : [result]) assert.ok(countElements(el) >= 1);
    return 'ok';
  } catch (err) {
    if (!(err instanceof PolicyDocError)) {
      assert.fail(`unexpected ${err instanceof Error ? err.stack : String(err)}\nfor input:\n${JSON.stringify(text)}`);
    }
    const lines = text.split(/\r\n|\r|\n/).length;
    assert.ok(err.pos.line >= 1 && err.pos.line <= lines, `line ${err.pos.line} of ${lines}: ${err.formatted}`);
    assert.ok(err.pos.col >= 1, err.formatted);
    return 'error';
  }
}

test('mutated seed documents give a tree or a PolicyDocError, never another exception', () => {
  const docs = seedBlocks().map((b) => b.xml);
  const rnd = createPrng(0x70116a7e);
  const tally = { ok: 0, error: 0 };
  const started = performance.now();
  for (let n = 0; n < 4000; n++) {
    const base = docs[n % docs.length]!;
    const text = mutate(base, rnd);
    tally[checkOutcome(text, () => parsePolicyXml(text, 'fuzz.xml'))]++;
    checkOutcome(text, () => parseXmlElements(text, 'fuzz.xml'));
    if (n % 8 === 0) {
      const values = new Map([['x', '"<&>'], ['region', 'eastus']]);
      checkOutcome(text, () => readPolicyDocument({ kind: 'xml', text, file: 'fuzz.xml', namedValues: values }));
    }
  }
  // Both outcomes must occur, or the mutations are not exercising the reader.
  assert.ok(tally.ok > 100 && tally.error > 100, JSON.stringify(tally));
  // Linear-time reading: thousands of small documents take well under a second; a hang would not finish.
  assert.ok(performance.now() - started < 20_000);
});

test('pathological inputs are read in linear time', () => {
  const big = 200_000;
  const cases = [
    '<policies>' + '@('.repeat(big),
    '<policies><inbound><value>@(' + '"'.repeat(big),
    '<policies><inbound><value>@(' + '$"{'.repeat(big / 3),
    '<policies><inbound><x a="@{' + '{'.repeat(big) + '" /></inbound></policies>',
    '<policies>' + '<!--'.repeat(big / 4),
    '<policies>' + '<x '.repeat(big / 3),
    '<policies>' + '&amp;'.repeat(big / 5),
    '<policies>' + '<a>'.repeat(big / 3),
  ];
  const wide = '<policies><inbound>' + '<value> x </value>'.repeat(50_000) + '</inbound></policies>';
  const started = performance.now();
  assert.equal(parsePolicyXml(wide, 'wide.xml').children[0]?.children.length, 50_000);
  assert.ok(performance.now() - started < 2_000, 'slow on many small elements');
  for (const text of cases) {
    const started = performance.now();
    assert.throws(() => parsePolicyXml(text, 'p.xml'), PolicyDocError);
    assert.ok(performance.now() - started < 2_000, `slow on ${text.slice(0, 40)}`);
  }
});
