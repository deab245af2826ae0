/**
 * Scopes merge as in API Management: global → product → API → operation, `<base />` placing the
 * enclosing scope's policies, a section without `<base />` replacing them, an absent section
 * inheriting them. XML and YAML of the same document behave the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TEST_KEY } from '../helpers/gateway.ts';

const trail = (scope: string, base: 'before' | 'after' | 'none'): string => {
  const mine = `<set-header name="x-trail" exists-action="append"><value>${scope}</value></set-header>`;
  const inner = base === 'before' ? `<base />${mine}` : base === 'after' ? `${mine}<base />` : mine;
  return `<policies><outbound>${inner}</outbound></policies>`;
};

async function trailOf(url: string, path = '/v1/chat/completions'): Promise<string | null> {
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'scopes' }], max_tokens: 1 }),
  });
  await res.arrayBuffer();
  return res.headers.get('x-trail');
}

test('global → product → API → operation, with <base /> where each scope puts it', async () => {
  const t = await startTestGateway({
    config: {
      policies: trail('global', 'none'),
      products: { starter: { apis: ['openai', 'azure-openai'], policies: trail('product', 'before') } },
    },
    apiPolicies: trail('api', 'after'),
  });
  try {
    // API: own, then base (product: base, then own) → api, global, product
    assert.equal(await trailOf(t.url), 'api, global, product');
  } finally {
    await t.close();
  }
});

test('a section without <base /> replaces the enclosing scopes; an absent section inherits them', async () => {
  const t = await startTestGateway({
    config: { policies: trail('global', 'none') },
    extraApis: {
      replaced: { path: 'replaced', type: 'openai', backend: 'sim', policies: trail('api', 'none') },
      inherited: { path: 'inherited', type: 'openai', backend: 'sim', policies: '<policies><inbound><base /></inbound></policies>' },
      'per-op': {
        path: 'per-op',
        type: 'openai',
        backend: 'sim',
        policies: trail('api', 'before'),
        operations: { ChatCompletions_Create: { policies: trail('operation', 'before') } },
      },
    },
  });
  try {
    assert.equal(await trailOf(t.url, '/replaced/v1/chat/completions'), 'api');
    assert.equal(await trailOf(t.url, '/inherited/v1/chat/completions'), 'global');
    assert.equal(await trailOf(t.url, '/per-op/v1/chat/completions'), 'global, api, operation');
    const emb = await fetch(`${t.url}/per-op/v1/embeddings`, {
      method: 'POST',
      headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'text-embedding-3-small', input: 'x' }),
    });
    await emb.arrayBuffer();
    assert.equal(emb.headers.get('x-trail'), 'global, api', 'operation policies apply to their operation only');
  } finally {
    await t.close();
  }
});

test('the YAML twin of a document behaves like its XML', async () => {
  const xml = `<policies>
  <inbound>
    <base />
    <set-variable name="who" value="@(context.Subscription.Id)" />
    <choose>
      <when condition="@(context.Request.Headers.GetValueOrDefault(&quot;x-mode&quot;, &quot;&quot;) == &quot;mock&quot;)">
        <return-response>
          <set-status code="418" reason="Teapot" />
          <set-header name="x-who" exists-action="override"><value>@((string)context.Variables["who"])</value></set-header>
          <set-body>{"mocked": true}</set-body>
        </return-response>
      </when>
    </choose>
  </inbound>
  <outbound>
    <base />
    <set-header name="x-who" exists-action="override"><value>@((string)context.Variables["who"] + "/" + context.Response.StatusCode)</value></set-header>
  </outbound>
</policies>`;
  const yaml = {
    inbound: [
      'base',
      { 'set-variable': { name: 'who', value: '@(context.Subscription.Id)' } },
      {
        choose: [
          {
            when: {
              condition: '@(context.Request.Headers.GetValueOrDefault("x-mode", "") == "mock")',
              children: [
                {
                  'return-response': [
                    { 'set-status': { code: 418, reason: 'Teapot' } },
                    { 'set-header': { name: 'x-who', 'exists-action': 'override', value: '@((string)context.Variables["who"])' } },
                    { 'set-body': '{"mocked": true}' },
                  ],
                },
              ],
            },
          },
        ],
      },
    ],
    outbound: ['base', { 'set-header': { name: 'x-who', 'exists-action': 'override', value: '@((string)context.Variables["who"] + "/" + context.Response.StatusCode)' } }],
  };
  const results: string[][] = [];
  for (const policies of [xml, yaml]) {
    const t = await startTestGateway({ apiPolicies: policies });
    try {
      const out: string[] = [];
      for (const mode of ['mock', 'real']) {
        const res = await fetch(`${t.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', 'x-mode': mode },
          body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'twin' }], max_tokens: 1 }),
        });
        const text = await res.text();
        out.push(`${res.status} ${res.headers.get('x-who')} ${mode === 'mock' ? text : ''}`);
      }
      results.push(out);
    } finally {
      await t.close();
    }
  }
  assert.deepEqual(results[0], ['418 team-a {"mocked": true}', '200 team-a/200 ']);
  assert.deepEqual(results[1], results[0]);
});

test('<include-fragment> inlines a fragment declared in config, in the section that includes it', async () => {
  const t = await startTestGateway({
    config: {
      fragments: {
        'stamp': '<fragment><set-header name="x-trail" exists-action="append"><value>fragment</value></set-header></fragment>',
      },
    },
    apiPolicies: '<policies><outbound><base /><include-fragment fragment-id="stamp" /><set-header name="x-trail" exists-action="append"><value>api</value></set-header></outbound></policies>',
  });
  try {
    assert.equal(await trailOf(t.url), 'fragment, api');
  } finally {
    await t.close();
  }
});
