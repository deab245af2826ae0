/**
 * Named values in policy documents are values, as in APIM: one holding quotes, `<` or `&` is that
 * value in an attribute or element text; inside an expression it is part of the source before the
 * expression compiles; and an error about a value names the named values in it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TEST_KEY } from '../helpers/gateway.ts';
import { loadConfigObject, ConfigError } from '../../src/config/load.ts';
import { startGateway } from '../../src/gateway/gateway.ts';
import { createLogger } from '../../src/observability/logger.ts';

const JSON_ARRAY = '["gpt-4o","gpt-4o-mini"]';
const MARKUP = 'a<b & "c" > d&amp;';

test('a named value holding quotes, < and & is a value in attributes, element text and expression source', async () => {
  const gw = await startTestGateway({
    extraNamedValues: {
      'allowed-json': { value: JSON_ARRAY },
      markup: { value: MARKUP },
      'allowed-list': { value: '"gpt-4o", "gpt-4o-mini"' },
    },
    apiPolicies: `<policies><inbound><base />
        <set-variable name="allowed" value="{{allowed-json}}" />
        <set-header name="x-json" exists-action="override"><value>@((string)context.Variables["allowed"])</value></set-header>
        <set-header name="x-markup" exists-action="override"><value>{{markup}}</value></set-header>
        <set-header name="x-count" exists-action="override"><value>@(JArray.Parse((string)context.Variables["allowed"]).Count.ToString())</value></set-header>
        <choose>
          <when condition="@(!new [] { {{allowed-list}} }.Contains((string)context.Request.Body.As<JObject>(preserveContent: true)["model"]))">
            <return-response><set-status code="403" reason="Forbidden" /><set-body>model not allowed</set-body></return-response>
          </when>
        </choose>
      </inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`,
  });
  try {
    const send = (model: string): Promise<Response> =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
      });
    const ok = await send('gpt-4o-mini');
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
    const seen = gw.sim.requests.at(-1)!;
    assert.equal(seen.headers['x-json'], JSON_ARRAY);
    assert.equal(seen.headers['x-markup'], MARKUP);
    assert.equal(seen.headers['x-count'], '2');

    const refused = await send('text-embedding-3-small');
    assert.equal(refused.status, 403);
    assert.equal(await refused.text(), 'model not allowed');
  } finally {
    await gw.close();
  }
});

/** The message of the load error of a config whose API policy is `policy`, with the named value `nv`. */
async function loadError(nv: string, policy: string): Promise<string> {
  const config = {
    gateway: { listen: '127.0.0.1:0' },
    admin: { enabled: false },
    log: { level: 'silent' },
    namedValues: { nv: { value: nv } },
    backends: { b: { url: 'http://127.0.0.1:9/openai' } },
    apis: { a: { path: 'openai', backend: 'b', policies: `<policies><inbound>${policy}</inbound></policies>` } },
  };
  try {
    // Reading checks the documents; starting compiles their policies and expressions.
    const gw = await startGateway(loadConfigObject(config), { logger: createLogger('silent'), defaultMetrics: false });
    await gw.close(0);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  throw new Error('expected a load error');
}

test('errors about a value that holds a named value name the named value', async () => {
  assert.match(await loadError('lots', '<rate-limit calls="{{nv}}" renewal-period="60" />'), /<rate-limit> attribute "calls" \(with \{\{nv\}\} substituted\): expected an integer/);
  assert.match(await loadError('1 +', '<set-variable name="x" value="@({{nv}})" />'), /<set-variable> attribute "value" \(with \{\{nv\}\} substituted\): /);
  assert.match(await loadError('x', '<set-variable name="x" value="{{nope}}" />'), /unknown named value \{\{nope\}\} in attribute 'value' of <set-variable>/);
});
