/**
 * The seeds' complete AI gateway policy and its YAML twin (the same elements and attributes in
 * the YAML form, generated from the XML tree) behave identically, on success and on error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPolicyDocument } from '../../src/policy-docs/read.ts';
import type { PolicyElement } from '../../src/policy-docs/element.ts';
import { useSimulatedManagedIdentity } from '../helpers/identity.ts';
import { startTestGateway, TEST_KEY } from '../helpers/gateway.ts';

// The seeds authenticate to the backends with <authentication-managed-identity>.
useSimulatedManagedIdentity();

const XML = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'seed-policies', 'complete-ai-gateway.xml'), 'utf8');

/** An element in the YAML form: `name: { attrs..., children: [...], text }`. */
function toYaml(el: PolicyElement): unknown {
  const body: Record<string, unknown> = {};
  for (const [k, v] of el.attrs) body[k] = v.value;
  if (el.children.length > 0) body['children'] = el.children.map(toYaml);
  if (el.text !== null) body['text'] = el.text.value;
  return { [el.name]: Object.keys(body).length === 0 ? null : body };
}

function yamlTwin(): Record<string, unknown> {
  const root = readPolicyDocument({ kind: 'xml', text: XML, file: 'complete-ai-gateway.xml' });
  return Object.fromEntries(root.children.map((section) => [section.name, section.children.map(toYaml)]));
}

async function run(policies: unknown, backendUrl: 'sim' | 'dead'): Promise<string> {
  const t = await startTestGateway({
    apiPolicies: policies,
    extraBackends: {
      'openai-backend-pool': backendUrl === 'sim' ? { urlFromSim: true } : { url: 'http://127.0.0.1:9/openai', timeouts: { connectMs: 500, responseHeadersMs: 1000, idleStreamMs: 1000 } },
      'embeddings-backend': { urlFromSim: true },
    },
    sleep: () => Promise.resolve(),
  });
  try {
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', 'x-request-id': 'twin-request-1' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'twin' }], max_tokens: 2 }),
    });
    const body = await res.text();
    // The request id is the gateway's own (unique per request); the error body must carry it.
    const rid = res.headers.get('x-request-id') ?? '';
    assert.ok(res.status === 200 || body.includes(rid), 'the error body names the request id');
    const stable = body.replaceAll(rid, '<request-id>').replace(/"id":"[^"]+"|"created":\d+/g, '');
    return JSON.stringify({ status: res.status, type: res.headers.get('content-type'), used: res.headers.get('x-tokens-used'), body: stable });
  } finally {
    await t.close();
  }
}

test('the complete policy in XML and in YAML give the same responses', async () => {
  const twin = yamlTwin();
  assert.deepEqual(Object.keys(twin), ['inbound', 'backend', 'outbound', 'on-error']);
  for (const backend of ['sim', 'dead'] as const) {
    const fromXml = await run(XML, backend);
    const fromYaml = await run(twin, backend);
    assert.equal(fromYaml, fromXml, `same behaviour with the ${backend} backend`);
    assert.match(fromXml, backend === 'sim' ? /"status":200/ : /"status":500.*AI Gateway Error.*<request-id>/);
  }
});
