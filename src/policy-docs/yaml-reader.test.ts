import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineCounter, parseDocument } from 'yaml';
import { PolicyDocError, type PolicyElement, type SourcePos } from './element.ts';
import { parsePolicyXml } from './xml-reader.ts';
import { policyFromYaml } from './yaml-reader.ts';
import { seedBlock, shape, throwsAt } from '../../test/helpers/policy-docs.ts';

const FALLBACK: SourcePos = { file: 'gateway.yaml', line: 1, col: 1 };



/** Parses YAML text and reads the value under `key` (or the whole document) as a policy document. */
function readYaml(text: string, rootName: 'policies' | 'fragment' = 'policies', key?: string): PolicyElement {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  assert.deepEqual(doc.errors, []);
  const node = key === undefined ? doc.contents : doc.get(key, true);
  return policyFromYaml(node, { file: 'api.yaml', lineCounter, fallback: FALLBACK, document: doc }, rootName);
}


const pad = (n: number): string => ' '.repeat(n);

// The seeds' complete policy, in YAML. The set-body block scalar is indented 12, so its lines
// carry the XML text's own indentation on top of that.
const COMPLETE_YAML = `apis: {}
policies:
  inbound:
    - base
    - llm-token-limit:
        tokens-per-minute: 10000
        counter-key: "@(context.Subscription.Id)"
        estimate-prompt-tokens: true
        tokens-consumed-header-name: x-tokens-consumed
        remaining-tokens-header-name: x-tokens-remaining
    - llm-semantic-cache-lookup:
        score-threshold: 0.95
        embeddings-backend-id: embeddings-backend
        embeddings-backend-auth: system-assigned
    - set-backend-service: { backend-id: openai-backend-pool }
    - authentication-managed-identity: { resource: "https://cognitiveservices.azure.com" }
  backend:
    - retry:
        condition: "@(context.Response.StatusCode == 429 || context.Response.StatusCode >= 500)"
        count: 3
        interval: 1
        first-fast-retry: true
        children:
          - forward-request: { buffer-request-body: true }
  outbound:
    - base
    - llm-semantic-cache-store: { duration: 3600 }
    - set-header:
        name: x-tokens-used
        exists-action: override
        children:
          - value: '@(context.Response.Headers.GetValueOrDefault("x-ms-total-tokens", "0"))'
  on-error:
    - base
    - set-header:
        name: Content-Type
        exists-action: override
        children: [ { value: application/json } ]
    - return-response:
        - set-status: { code: 500 }
        - set-body: |-
${pad(12)}@{
${pad(28)}return new JObject(
${pad(32)}new JProperty("error", "AI Gateway Error"),
${pad(32)}new JProperty("requestId", context.RequestId.ToString())
${pad(28)}).ToString();
${pad(24)}}
`;

test('the complete policy in YAML gives the same tree as the XML', () => {
  const fromXml = parsePolicyXml(seedBlock('<policies>'), 'complete.xml');
  const fromYaml = readYaml(COMPLETE_YAML, 'policies', 'policies');
  assert.deepEqual(shape(fromYaml), shape(fromXml));
});

test('positions point at YAML keys and at the first character of values', () => {
  const root = readYaml(COMPLETE_YAML, 'policies', 'policies');
  assert.deepEqual(root.pos, { file: 'api.yaml', line: 3, col: 3 });
  const inbound = root.children[0]!;
  assert.deepEqual(inbound.pos, { file: 'api.yaml', line: 3, col: 3 });
  assert.deepEqual(inbound.children[0]!.pos, { file: 'api.yaml', line: 4, col: 7 });
  const limit = inbound.children[1]!;
  assert.deepEqual(limit.pos, { file: 'api.yaml', line: 5, col: 7 });
  assert.deepEqual(limit.attrs.get('tokens-per-minute')?.pos, { file: 'api.yaml', line: 6, col: 28 });
  assert.deepEqual(limit.attrs.get('counter-key')?.pos, { file: 'api.yaml', line: 7, col: 23 });
  const value = root.children[2]!.children[2]!.children[0]!;
  assert.deepEqual(value.text?.pos, { file: 'api.yaml', line: 32, col: 21 });
});

test('set-header value as an attribute, bare names, scalar text and empty bodies', () => {
  const root = readYaml(`inbound:
  - base
  - set-header: { name: x-a, exists-action: override, value: "@(context.Subscription.Id)" }
  - set-body: '{"a":1}'
  - forward-request:
  - forward-request: {}
  - set-variable: { name: v, value: 2024.10 }
outbound: []
on-error:
`);
  assert.deepEqual(shape(root), {
    name: 'policies',
    attrs: {},
    text: null,
    children: [
      {
        name: 'inbound',
        attrs: {},
        text: null,
        children: [
          { name: 'base', attrs: {}, text: null, children: [] },
          { name: 'set-header', attrs: { name: 'x-a', 'exists-action': 'override', value: '@(context.Subscription.Id)' }, text: null, children: [] },
          { name: 'set-body', attrs: {}, text: '{"a":1}', children: [] },
          { name: 'forward-request', attrs: {}, text: null, children: [] },
          { name: 'forward-request', attrs: {}, text: null, children: [] },
          // A plain number keeps its spelling: 2024.10 is not 2024.1.
          { name: 'set-variable', attrs: { name: 'v', value: '2024.10' }, text: null, children: [] },
        ],
      },
      { name: 'outbound', attrs: {}, text: null, children: [] },
      { name: 'on-error', attrs: {}, text: null, children: [] },
    ],
  });
  const header = root.children[0]!.children[1]!;
  assert.deepEqual(header.attrs.get('value')?.pos, { file: 'api.yaml', line: 3, col: 63 });
  assert.deepEqual(root.children[0]!.children[2]!.text?.pos, { file: 'api.yaml', line: 4, col: 16 });
});

test('choose with when/otherwise, children lists and text keys', () => {
  const root = readYaml(`inbound:
  - choose:
      - when:
          condition: "@(context.Request.Headers.ContainsKey(\\"x\\"))"
          children:
            - return-response:
                - set-status: { code: 400, reason: Bad Request }
                - set-body: '{"error":"x"}'
      - otherwise:
          - set-body: { text: "  hello  ", template: none }
`);
  const choose = root.children[0]!.children[0]!;
  assert.deepEqual(shape(choose), {
    name: 'choose',
    attrs: {},
    text: null,
    children: [
      {
        name: 'when',
        attrs: { condition: '@(context.Request.Headers.ContainsKey("x"))' },
        text: null,
        children: [
          {
            name: 'return-response',
            attrs: {},
            text: null,
            children: [
              { name: 'set-status', attrs: { code: '400', reason: 'Bad Request' }, text: null, children: [] },
              { name: 'set-body', attrs: {}, text: '{"error":"x"}', children: [] },
            ],
          },
        ],
      },
      { name: 'otherwise', attrs: {}, text: null, children: [{ name: 'set-body', attrs: { template: 'none' }, text: 'hello', children: [] }] },
    ],
  });
});

test('plain JS values read the same, positioned at the fallback', () => {
  const plain = {
    inbound: ['base', { 'set-header': { name: 'x', 'exists-action': 'override', children: [{ value: '@(1)' }] } }],
    backend: [{ retry: { count: 3, 'first-fast-retry': false, children: [{ 'forward-request': null }] } }],
  };
  const root = policyFromYaml(plain, { file: 'gateway.yaml', fallback: FALLBACK }, 'policies');
  const same = readYaml(`inbound: [ base, { set-header: { name: x, exists-action: override, children: [ { value: "@(1)" } ] } } ]
backend: [ { retry: { count: 3, first-fast-retry: false, children: [ forward-request: ] } } ]`);
  assert.deepEqual(shape(root), shape(same));
  assert.deepEqual(root.children[1]!.children[0]!.attrs.get('count'), { value: '3', pos: FALLBACK });
  assert.deepEqual(root.children[0]!.children[1]!.pos, FALLBACK);
});

test('fragments are lists of elements; aliases resolve through the document', () => {
  const fragment = readYaml(`- set-variable: { name: a, value: "1" }\n- base\n`, 'fragment');
  assert.equal(fragment.name, 'fragment');
  assert.deepEqual(fragment.children.map((c) => c.name), ['set-variable', 'base']);

  const root = readYaml(`common: &auth
  - authentication-managed-identity: { resource: "https://cognitiveservices.azure.com" }
policies:
  inbound: *auth
  outbound: [ base ]
`, 'policies', 'policies');
  assert.deepEqual(root.children[0]!.children.map((c) => c.name), ['authentication-managed-identity']);
  assert.deepEqual(root.children[0]!.children[0]!.pos, { file: 'api.yaml', line: 2, col: 5 });

  const lineCounter = new LineCounter();
  const doc = parseDocument('a: &x [ base ]\nb: { inbound: *x }', { lineCounter });
  throwsAt(() => policyFromYaml(doc.get('b', true), { file: 'api.yaml', lineCounter, fallback: FALLBACK }, 'policies'), 2, 15, /alias \*x cannot be resolved/);
});

test('errors are located at the offending YAML node', () => {
  throwsAt(() => readYaml('inbound: base\n'), 1, 10, /section 'inbound' must be a list of policy elements/);
  throwsAt(() => readYaml('inbound: []\ninbund: []\n'), 2, 1, /unknown section 'inbund'/);
  throwsAt(() => readYaml('- base\n'), 1, 1, /policies document must be a mapping of sections/);
  throwsAt(() => readYaml('inbound: []\n', 'fragment'), 1, 1, /fragment must be a list/);
  throwsAt(() => readYaml('inbound:\n  - set-header:\n    name: x\n'), 3, 5, /exactly one key, its name; found 2 keys \(set-header, name\)/);
  throwsAt(() => readYaml('inbound:\n  - { 1: x }\n'), 2, 7, /keys in a policy document must be strings/);
  throwsAt(() => readYaml('inbound:\n  - set-header: { name: [a, b] }\n'), 2, 25, /'name' of <set-header> is a list, but only 'children' may hold a list/);
  throwsAt(() => readYaml('inbound:\n  - set-header: { name: { a: 1 } }\n'), 2, 25, /'name' of <set-header> must be a scalar/);
  throwsAt(() => readYaml('inbound:\n  - set-header: { name: }\n'), 2, 19, /attribute 'name' of <set-header> has no value/);
  throwsAt(() => readYaml('inbound:\n  - set-header: { children: x }\n'), 2, 29, /'children' of <set-header> must be a list/);
  throwsAt(() => readYaml('inbound:\n  - [ base ]\n'), 2, 5, /found a list/);
  throwsAt(() => readYaml('inbound:\n  - "set header"\n'), 2, 5, /'set header' is not a valid element name/);
  throwsAt(() => readYaml('inbound:\n  - choose:\n      - when:\n          condition: "@(true)"\n          children: [ base ]\n        otherwise: []\n'), 6, 9, /exactly one key/);
});

test('nesting deeper than 64 elements is refused', () => {
  let body: unknown = 'base';
  // policies, inbound, then 62 nested chooses: depth 64 (the innermost holds "base" as text).
  for (let i = 0; i < 62; i++) body = [{ choose: body }];
  assert.equal(policyFromYaml({ inbound: body }, { file: 'x.yaml', fallback: FALLBACK }, 'policies').name, 'policies');
  assert.throws(
    () => policyFromYaml({ inbound: [{ x: body }] }, { file: 'x.yaml', fallback: FALLBACK }, 'policies'),
    (err: unknown) => err instanceof PolicyDocError && /nested deeper than 64/.test(err.message),
  );
});
