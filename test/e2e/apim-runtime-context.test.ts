/**
 * Run-time context that published APIM patterns rely on: `context.Response` inside `<retry>`
 * before the first forward-request (Microsoft's retry/failover pattern), the deployment as a
 * matched parameter on the OpenAI `/v1` surface (the seed's per-model `choose`), and
 * `context.User` for a subscription that names its owner.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TEST_KEY, BACKEND_KEY, type TestGateway } from '../helpers/gateway.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { seedBlock } from '../helpers/policy-docs.ts';

function chat(t: TestGateway, path: string, model = 'gpt-4o'): Promise<Response> {
  return fetch(t.url + path, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
  });
}

test('inside retry, context.Response before the first forward-request is an empty 200: the failover pattern picks the primary first, then the secondary on 429', async () => {
  const primary = await startSimulator({ name: 'primary', requireKey: BACKEND_KEY, tokensPerSecond: 0, fault: { fail: '429', retryAfterSeconds: 1 } });
  const gw = await startTestGateway({
    extraBackends: { primary: { url: `${primary.url}/openai`, credentials: { header: { 'api-key': '{{backend-key}}' } } } },
    // AzureOpenAI-with-APIM's AOAI_Policy-Managed_Identity_with_Retry pattern (identity left out),
    // with the `id` attribute APIM's portal editor writes on set-backend-service.
    apiPolicies: `<policies><inbound><base /></inbound>
      <backend>
        <retry condition="@(context.Response.StatusCode == 429 || context.Response.StatusCode >= 500)" count="2" interval="0">
          <choose>
            <when condition="@(context.Response.StatusCode == 429 || context.Response.StatusCode >= 500)">
              <set-backend-service backend-id="sim" />
            </when>
            <otherwise>
              <set-backend-service id="apim-generated-policy" backend-id="primary" />
            </otherwise>
          </choose>
          <forward-request buffer-request-body="true" />
        </retry>
      </backend>
      <outbound><base /></outbound>
      <on-error><base /></on-error></policies>`,
  });
  try {
    const res = await chat(gw, '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21');
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get('x-sim-name'), 'sim');
    await res.arrayBuffer();
    assert.equal(primary.requests.length, 1, 'the first try went to the primary');
    assert.equal(gw.sim.requests.length, 1, 'the retry went to the secondary');
  } finally {
    await gw.close();
    await primary.close();
  }
});

test('on /v1 the body model is MatchedParameters["deployment-id"], so the seed\'s per-model choose loads and answers there', async () => {
  const block = seedBlock('MatchedParameters["deployment-id"] == "gpt-4"');
  const policy = block.replace('<inbound>', '<policies><inbound>').replace('</inbound>', '</inbound><backend><base /></backend><outbound><base /><set-header name="x-deployment" exists-action="override"><value>@(context.Request.MatchedParameters.GetValueOrDefault("deployment-id", "none"))</value></set-header></outbound><on-error><base /></on-error></policies>');
  const gw = await startTestGateway({ apiPolicies: policy, deployments: ['gpt-4', 'gpt-35-turbo', 'gpt-4o'] });
  try {
    for (const path of ['/v1/chat/completions', '/openai/v1/chat/completions', '/openai/deployments/gpt-4/chat/completions?api-version=2024-10-21']) {
      const res = await chat(gw, path, 'gpt-4');
      assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
      assert.equal(res.headers.get('x-deployment'), 'gpt-4', path);
      await res.arrayBuffer();
    }
    const other = await chat(gw, '/v1/chat/completions', 'gpt-4o');
    assert.equal(other.status, 200);
    assert.equal(other.headers.get('x-deployment'), 'gpt-4o');
    await other.arrayBuffer();
  } finally {
    await gw.close();
  }
});

test('context.User is the subscription\'s configured owner, and null for a subscription without one', async () => {
  const OTHER_KEY = 'tg-other-key-0123456789abcdef';
  const gw = await startTestGateway({
    extraNamedValues: { 'other-key': { value: OTHER_KEY, secret: true } },
    config: {
      subscriptions: {
        'team-a': {
          product: 'starter',
          keys: ['{{team-key}}'],
          user: { id: 'ada', email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', groups: ['developers', { id: 'admins', name: 'Administrators' }] },
        },
        'team-b': { product: 'starter', keys: ['{{other-key}}'] },
      },
    },
    apiPolicies: `<policies><inbound><base />
        <choose>
          <when condition="@(context.User != null &amp;&amp; context.User.Groups.Any(g => g.Id == &quot;admins&quot;))">
            <set-header name="x-user" exists-action="override"><value>@(context.User.Id + "|" + context.User.Email + "|" + context.User.FirstName + " " + context.User.LastName + "|" + string.Join(",", context.User.Groups.Select(g => g.Name)))</value></set-header>
          </when>
          <otherwise><set-header name="x-user" exists-action="override"><value>@(context.User == null ? "none" : "no-admin")</value></set-header></otherwise>
        </choose>
      </inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`,
  });
  try {
    const a = await chat(gw, '/v1/chat/completions');
    assert.equal(a.status, 200);
    await a.arrayBuffer();
    assert.equal(gw.sim.requests.at(-1)?.headers['x-user'], 'ada|ada@example.com|Ada Lovelace|developers,Administrators');
    const b = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'api-key': OTHER_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
    });
    assert.equal(b.status, 200);
    await b.arrayBuffer();
    assert.equal(gw.sim.requests.at(-1)?.headers['x-user'], 'none');
  } finally {
    await gw.close();
  }
});
