import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineCounter, parseDocument } from 'yaml';
import type { PolicyElement } from './element.ts';
import { readPolicyDocument } from './read.ts';
import { throwsAt } from '../../test/helpers/policy-docs.ts';

const VALUES = new Map([
  ['aoai-key', 'k-123'],
  ['header-name', 'x-a-much-longer-header-name'],
  ['v', 'v'],
  ['quote', 'a"b'],
  ['sub-id', '@(context.Subscription.Id)'],
  ['empty', ''],
]);


function first(el: PolicyElement, name: string): PolicyElement {
  if (el.name === name) return el;
  for (const c of el.children) {
    try {
      return first(c, name);
    } catch {
      // not under this child
    }
  }
  throw new Error(`no <${name}>`);
}

test('named values are substituted in values; comments and non-names are left alone', () => {
  const text = '<fragment><set-header name="h"><value>{{aoai-key}}/{{v}}{{empty}}</value></set-header><!-- {{retired}} --><set-body>{{ liquid }} {{"a":1}}</set-body></fragment>';
  const root = readPolicyDocument({ kind: 'xml', text, file: 'p.xml', namedValues: VALUES });
  assert.equal(first(root, 'value').text?.value, 'k-123/v');
  assert.deepEqual(first(root, 'value').text?.namedValues, ['aoai-key', 'v', 'empty']);
  assert.equal(first(root, 'set-body').text?.value, '{{ liquid }} {{"a":1}}');
  assert.equal(first(root, 'set-body').text?.namedValues, undefined);
});

test('an unknown named value is reported where it is written', () => {
  const text = '<policies>\n  <inbound>\n    <set-header name="api-key"><value>{{v}}{{missing}}</value></set-header>';
  throwsAt(() => readPolicyDocument({ kind: 'xml', text: `${text}</inbound></policies>`, file: 'p.xml', namedValues: VALUES }), 3, 44, /unknown named value \{\{missing\}\} in the text of <value>/);
});

test('after substitution, positions still point into the original text', () => {
  const text = '<fragment>\n  <set-header name="{{header-name}}" value="{{v}}" exists-action="override" />\n</fragment>';
  const root = readPolicyDocument({ kind: 'xml', text, file: 'p.xml', namedValues: VALUES });
  const header = first(root, 'set-header');
  assert.deepEqual(header.attrs.get('name'), { value: 'x-a-much-longer-header-name', pos: { file: 'p.xml', line: 2, col: 21 }, namedValues: ['header-name'] });
  assert.deepEqual(header.attrs.get('value'), { value: 'v', pos: { file: 'p.xml', line: 2, col: 45 }, namedValues: ['v'] });
  assert.deepEqual(header.attrs.get('exists-action')?.pos, { file: 'p.xml', line: 2, col: 67 });

  // A later error on the same line, after two substitutions of different lengths.
  const dup = text.replace('exists-action="override"', 'exists-action="override" name="x"');
  throwsAt(() => readPolicyDocument({ kind: 'xml', text: dup, file: 'p.xml', namedValues: VALUES }), 2, 77, /duplicate attribute 'name'/);

  // A value holding a quote stays a value: it cannot end the attribute early.
  const quoted = readPolicyDocument({ kind: 'xml', text: '<fragment>\n  <x a="{{quote}}" />\n</fragment>', file: 'p.xml', namedValues: VALUES });
  assert.deepEqual([...first(quoted, 'x').attrs.keys()], ['a']);
  assert.equal(first(quoted, 'x').attrs.get('a')?.value, 'a"b');
});

test('a named value may hold a policy expression', () => {
  const text = '<policies><inbound><llm-token-limit counter-key="{{sub-id}}" tokens-per-minute="10" /></inbound></policies>';
  const root = readPolicyDocument({ kind: 'xml', text, file: 'p.xml', namedValues: VALUES });
  assert.equal(first(root, 'llm-token-limit').attrs.get('counter-key')?.value, '@(context.Subscription.Id)');
  // Without namedValues the reference is kept as written.
  assert.equal(first(readPolicyDocument({ kind: 'xml', text, file: 'p.xml' }), 'llm-token-limit').attrs.get('counter-key')?.value, '{{sub-id}}');
});

test('substitution cannot grow a document past the size limit', () => {
  const big = new Map([['big', 'x'.repeat(600_000)]]);
  const text = '<fragment><a v="{{big}}" />\n<a v="{{big}}" /></fragment>';
  throwsAt(() => readPolicyDocument({ kind: 'xml', text, file: 'p.xml', namedValues: big }), 2, 7, /makes the policy document larger than/);
});

test('yaml sources dispatch to the YAML reader, with named values in values', () => {
  const lineCounter = new LineCounter();
  const doc = parseDocument('inbound:\n  - set-header: { name: api-key, value: "{{aoai-key}}" }\n  - set-body: "{{nope}}"\n', { lineCounter });
  const fallback = { file: 'gw.yaml', line: 1, col: 1 };
  const root = readPolicyDocument({ kind: 'yaml', node: doc.contents, file: 'gw.yaml', lineCounter, fallback });
  assert.equal(root.name, 'policies');
  assert.equal(first(root, 'set-body').text?.value, '{{nope}}');
  throwsAt(
    () => readPolicyDocument({ kind: 'yaml', node: doc.contents, file: 'gw.yaml', lineCounter, fallback, namedValues: VALUES }),
    3,
    16,
    /unknown named value \{\{nope\}\} in the text of <set-body>/,
  );
  const ok = readPolicyDocument({ kind: 'yaml', node: { inbound: [{ 'set-header': { value: '{{aoai-key}}' } }] }, file: 'gw.yaml', fallback, namedValues: VALUES });
  assert.equal(first(ok, 'set-header').attrs.get('value')?.value, 'k-123');

  const fragment = readPolicyDocument({ kind: 'yaml', node: ['base'], file: 'gw.yaml', fallback, rootName: 'fragment' });
  assert.equal(fragment.name, 'fragment');
  assert.deepEqual(fragment.pos, fallback);
});
