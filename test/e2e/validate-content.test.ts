/**
 * validate-content through a real gateway in front of the simulator: request bodies checked
 * against a configured JSON schema (prevent / detect / ignore, APIM's status codes and messages),
 * size limits, unspecified and mapped content types, the errors variable, response validation,
 * and the load errors for what cannot work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadError } from '../helpers/load-error.ts';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';

const CHAT_SCHEMA = {
  type: 'object',
  required: ['messages'],
  properties: {
    model: { type: 'string', pattern: '^gpt-[a-z0-9.-]+$' },
    max_tokens: { type: 'integer', minimum: 1, maximum: 100 },
    messages: { type: 'array', minItems: 1, items: { type: 'object', required: ['role', 'content'], properties: { role: { enum: ['system', 'user', 'assistant'] } } } },
  },
};

const doc = (inbound: string, outbound = '<base />', onError = '<base />'): string =>
  `<policies><inbound><base />${inbound}</inbound><backend><base /></backend><outbound>${outbound}</outbound><on-error>${onError}</on-error></policies>`;

async function withGateway(policies: string, fn: (t: TestGateway) => Promise<void>, schemas: Record<string, unknown> = { chat: { inline: CHAT_SCHEMA } }): Promise<void> {
  const t = await startTestGateway({ apiPolicies: policies, config: { schemas } });
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

function post(t: TestGateway, body: string, contentType: string | null = 'application/json'): Promise<Response> {
  return fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, ...(contentType !== null && { 'content-type': contentType }) },
    body,
  });
}

const good = JSON.stringify({ model: 'gpt-4o', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] });

interface ErrorBody {
  error: { message: string; type: string; code: string };
}

test('prevent refuses a request body that breaks the schema with 400 before the backend is called, and passes a valid one', () =>
  withGateway(
    doc('<validate-content unspecified-content-type-action="prevent" max-size="102400" size-exceeded-action="prevent"><content type="application/json" validate-as="json" schema-id="chat" action="prevent" /></validate-content>'),
    async (t) => {
      const ok = await post(t, good);
      assert.equal(ok.status, 200);
      await ok.arrayBuffer();
      const before = t.sim.requests.length;
      for (const bad of [
        { model: 'gpt-4o', max_tokens: 500, messages: [{ role: 'user', content: 'x' }] },
        { model: 'gpt-4o', messages: [] },
        { model: 'gpt-4o', max_tokens: '2', messages: [{ role: 'user', content: 'x' }] },
        { model: 'gpt-4o', messages: [{ role: 'hacker', content: 'x' }] },
      ]) {
        const res = await post(t, JSON.stringify(bad));
        assert.equal(res.status, 400);
        const body = (await res.json()) as ErrorBody;
        assert.equal(body.error.code, 'GW_ERR_CONTENT_VALIDATION');
        assert.equal(body.error.type, 'invalid_request_error');
        assert.match(body.error.message, /^Body of the request does not conform to the definition chat, which is associated with the content type application\/json\./);
      }
      // Malformed JSON never gets this far on an OpenAI API: the gateway refuses it first.
      const malformed = await post(t, '{"messages": [');
      assert.equal(malformed.status, 400);
      await malformed.arrayBuffer();
      assert.equal(t.sim.requests.length, before, 'no refused request reached the backend');
    },
  ));

test('detect lets the request through and records APIM-shaped errors in errors-variable-name', () =>
  withGateway(
    doc(
      '<validate-content unspecified-content-type-action="detect" max-size="102400" size-exceeded-action="detect" errors-variable-name="errs"><content type="application/json" validate-as="json" schema-id="chat" action="detect" /></validate-content>',
      `<base /><set-header name="x-errors" exists-action="override"><value>@{
         var errs = (JArray)context.Variables.GetValueOrDefault("errs", new JArray());
         return errs.Count + "|" + (errs.Count > 0 ? (string)errs[0]["ValidationRule"] + "|" + (string)errs[0]["Type"] + "|" + (string)errs[0]["Action"] + "|" + (string)errs[0]["Name"] : "");
       }</value></set-header>`,
    ),
    async (t) => {
      const ok = await post(t, good);
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('x-errors'), '0|');
      await ok.arrayBuffer();
      const bad = await post(t, JSON.stringify({ model: 'gpt-4o', max_tokens: 500, messages: [{ role: 'user', content: 'x' }] }));
      assert.equal(bad.status, 200);
      assert.equal(bad.headers.get('x-errors'), '1|IncorrectMessage|RequestBody|detect|application/json');
      await bad.arrayBuffer();
    },
  ));

test('size limit: prevent answers 400 with APIM\'s message; the errors variable reaches on-error', () =>
  withGateway(
    doc(
      '<validate-content unspecified-content-type-action="ignore" max-size="200" size-exceeded-action="prevent" errors-variable-name="errs"><content type="application/json" validate-as="json" action="ignore" /></validate-content>',
      '<base />',
      `<base /><set-header name="x-rule" exists-action="override"><value>@((string)((JArray)context.Variables["errs"])[0]["Details"] + "|" + context.LastError.Reason)</value></set-header>`,
    ),
    async (t) => {
      const big = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(300) }] });
      const res = await post(t, big);
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as ErrorBody).error.message, `Request's body is ${Buffer.byteLength(big)} bytes long and it exceeds the limit of 200 bytes.`);
      assert.equal(res.headers.get('x-rule'), `Request's body is ${Buffer.byteLength(big)} bytes long and it exceeds the configured limit of 200 bytes.|GW_ERR_CONTENT_VALIDATION`);
      const small = await post(t, good);
      assert.equal(small.status, 200);
      await small.arrayBuffer();
    },
  ));

test('an unspecified content type is refused; content-type-map maps a missing or other type first', () =>
  withGateway(
    doc(`<validate-content unspecified-content-type-action="prevent" max-size="102400" size-exceeded-action="prevent">
           <content-type-map missing-content-type-value="application/json"><type from="application/hal+json" to="application/json" /><type when="@(context.Request.Headers.GetValueOrDefault(&quot;x-json&quot;, &quot;&quot;) == &quot;yes&quot;)" to="application/json" /></content-type-map>
           <content type="application/json" validate-as="json" schema-id="chat" action="prevent" />
         </validate-content>`),
    async (t) => {
      const plain = await post(t, good, 'text/plain');
      assert.equal(plain.status, 400);
      assert.equal(((await plain.json()) as ErrorBody).error.message, 'Unspecified content type text/plain is not allowed.');
      // Mapped to application/json, then validated: the bad one is refused, the good one passes.
      const hal = await post(t, JSON.stringify({ model: 'gpt-4o', messages: [] }), 'application/hal+json');
      assert.equal(hal.status, 400);
      assert.match(((await hal.json()) as ErrorBody).error.message, /content type application\/json/);
      const missing = await post(t, JSON.stringify({ model: 'gpt-4o', messages: [] }), null);
      assert.equal(missing.status, 400);
      await missing.arrayBuffer();
      // A <type when="@(...)"> mapping: text/csv is validated as JSON only when the header says so.
      const mapped = await fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'api-key': TEST_KEY, 'content-type': 'text/csv', 'x-json': 'yes' },
        body: good,
      });
      assert.equal(mapped.status, 200);
      await mapped.arrayBuffer();
    },
  ));

test('in outbound the response is validated: a failure answers 502 without backend details', () =>
  withGateway(
    doc('', `<base /><validate-content unspecified-content-type-action="prevent" max-size="102400" size-exceeded-action="prevent">
               <content type="application/json" validate-as="json" schema-id="answer" action="prevent" /></validate-content>`),
    async (t) => {
      const res = await post(t, good);
      assert.equal(res.status, 502);
      const body = (await res.json()) as ErrorBody;
      assert.equal(body.error.code, 'GW_ERR_CONTENT_VALIDATION');
      assert.equal(body.error.message, 'The request could not be processed due to an internal error. Contact the API owner.');
    },
    { chat: { inline: CHAT_SCHEMA }, answer: { inline: { type: 'object', required: ['never_there'] } } },
  ));

test('a response that conforms passes; schemas load from files relative to the config, with schema-ref', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-schemas-'));
  try {
    const file = join(dir, 'openai.json');
    writeFileSync(file, JSON.stringify({ components: { schemas: { Completion: { type: 'object', required: ['choices', 'usage'] }, Other: { type: 'string' } } } }));
    await withGateway(
      doc('', `<base /><validate-content unspecified-content-type-action="prevent" max-size="102400" size-exceeded-action="prevent">
                 <content type="application/json" validate-as="json" schema-id="openai" schema-ref="#/components/schemas/Completion" action="prevent" /></validate-content>`),
      async (t) => {
        const res = await post(t, good);
        assert.equal(res.status, 200);
        assert.ok(((await res.json()) as { choices: unknown[] }).choices.length > 0);
      },
      { openai: { file } },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('what cannot work is a load error: unknown schema-id, xml, a missing schema-ref, a broken schema, max-size over APIM\'s limit', () => {
  const vc = (content: string, max = 100): string => doc(`<validate-content unspecified-content-type-action="prevent" max-size="${max}" size-exceeded-action="prevent">${content}</validate-content>`);
  assert.match(loadError(vc('<content type="application/json" validate-as="json" schema-id="nope" action="prevent" />'), { schemas: {} }), /schema-id.*names no schema/);
  assert.match(loadError(vc('<content type="application/xml" validate-as="xml" action="prevent" />'), { schemas: {} }), /"xml" is not supported/);
  assert.match(loadError(vc('<content type="application/json" validate-as="json" schema-id="chat" schema-ref="#/missing" action="prevent" />'), { schemas: { chat: { inline: CHAT_SCHEMA } } }), /schema-ref "#\/missing" does not exist/);
  assert.match(loadError(vc(''), { schemas: { broken: { inline: { type: 'object', properties: { a: { type: 'string', pattern: '(a)\\1' } } } } } }), /schemas.*does not compile/);
  assert.match(loadError(vc(''), { schemas: { missing: { file: '/nonexistent/schema.json' } } }), /cannot read \/nonexistent\/schema.json/);
  assert.match(loadError(vc('', 204800), { schemas: {} }), /max-size/);
});
