// Policy expressions from real published APIM documents (test/fixtures/apim-policies/, verbatim
// copies): every expression in them compiles, and the ones that use switch, using, hashing,
// HashSet and Regex give the results APIM would.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import type { PolicyElement, PolicyValue } from '../policy-docs/element.ts';
import { readPolicyDocument } from '../policy-docs/read.ts';
import { compileExpression } from './index.ts';
import { makeContext } from './test-support.ts';

const DIR = new URL('../../test/fixtures/apim-policies/', import.meta.url);

/** Named values get a value named after themselves, as a deployment would give them one. */
function load(file: string): PolicyElement {
  const text = readFileSync(new URL(file, DIR), 'utf8');
  const names = new Map([...text.matchAll(/\{\{([^}]+)\}\}/g)].map((m) => [m[1] ?? '', `nv-${m[1] ?? ''}`]));
  return readPolicyDocument({ kind: 'xml', file, text, namedValues: names });
}

function expressions(el: PolicyElement, out: PolicyValue[] = []): PolicyValue[] {
  for (const v of [...el.attrs.values(), ...(el.text === null ? [] : [el.text])]) if (/^@[({]/.test(v.value)) out.push(v);
  for (const c of el.children) expressions(c, out);
  return out;
}

function exprContaining(file: string, needle: string): PolicyValue {
  const found = expressions(load(file)).filter((v) => v.value.includes(needle));
  assert.equal(found.length >= 1, true, `no expression containing ${needle} in ${file}`);
  return found[0] as PolicyValue;
}

function evaluate(v: PolicyValue, ctx = makeContext()): unknown {
  return compileExpression(v.value, v.pos).evaluate(ctx);
}

test('every expression of the copied real documents compiles', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.xml'));
  assert.ok(files.length >= 7);
  let n = 0;
  for (const file of files) {
    for (const v of expressions(load(file))) {
      assert.doesNotThrow(() => compileExpression(v.value, v.pos), `${v.pos.file}:${v.pos.line}`);
      n++;
    }
  }
  assert.ok(n > 50, `only ${n} expressions found`);
});

test('the weather mock\'s switch picks the shared case for Seattle and the default otherwise', () => {
  const v = exprContaining('ai-agent-service__city-weather-mock-policy.xml', 'switch');
  const at = (city: string): Record<string, unknown> => {
    const ctx = makeContext();
    ctx.request.matchedParameters.set('city', city);
    return JSON.parse(String(evaluate(v, ctx))) as Record<string, unknown>;
  };
  assert.equal(at('Seattle').temperature_format, 'Fahrenheit');
  assert.equal(at('Los Angeles').temperature_format, 'Fahrenheit');
  assert.equal(at('Lisbon').temperature_format, 'Celsius');
  assert.equal(at('Lisbon').city, 'Lisbon');
});

test('the product-catalog mock\'s switch without default leaves the value when nothing matches', () => {
  const v = exprContaining('ai-agent-service__product-catalog-mock-policy.xml', 'switch');
  const at = (category: string): Record<string, unknown> => {
    const ctx = makeContext();
    ctx.request.matchedParameters.set('category', category);
    return JSON.parse(String(evaluate(v, ctx))) as Record<string, unknown>;
  };
  assert.ok(['Smartphone', 'Tablet', 'Laptop', 'Smartwatch'].includes(String(at('Electronics').name)));
  assert.equal(at('toys').name, 'N/A');
});

test('the AWS SigV4 documents hash the body with SHA256 inside using blocks', () => {
  const body = '{"prompt":"hi"}';
  const v = exprContaining('aws-bedrock__policy.xml', 'sha256.ComputeHash');
  assert.equal(evaluate(v, makeContext({ body })), createHash('sha256').update(body).digest('hex'));
});

test('the AWS SigV4 Authorization header is the HMAC chain AWS specifies', () => {
  const v = exprContaining('aws-bedrock__policy.xml', 'AWS4-HMAC-SHA256 Credential');
  const ctx = makeContext({ body: '{}', headers: { host: 'bedrock.example', 'content-type': 'application/json' } });
  ctx.variables.set('now', compileExpression('@(DateTime.Parse("2025-01-15T13:45:12Z").ToUniversalTime())', { file: 't', line: 1, col: 1 }).evaluate(ctx));
  const auth = String(evaluate(v, ctx));
  const m = /^AWS4-HMAC-SHA256 Credential=nv-accesskey\/20250115\/us-east-1\/bedrock\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  assert.ok(m, auth);
  assert.equal(m[1], 'content-type;host;x-amz-content-sha256;x-amz-date');
  // The signature, computed independently as the document's algorithm specifies.
  const sha = (x: string): string => createHash('sha256').update(x).digest('hex');
  const h = (k: Buffer | string, x: string): Buffer => createHmac('sha256', k).update(x).digest();
  const date = '20250115T134512Z';
  const headers = `content-type:application/json\nhost:bedrock.example\nx-amz-content-sha256:${sha('{}')}\nx-amz-date:${date}\n`;
  const canonical = `POST\n/model//\napi-version=2024-02-01\n${headers}\n${m[1]}\n${sha('{}')}`;
  const toSign = `AWS4-HMAC-SHA256\n${date}\n20250115/us-east-1/bedrock/aws4_request\n${sha(canonical)}`;
  const kSigning = h(h(h(h('AWS4nv-secretkey', '20250115'), 'us-east-1'), 'bedrock'), 'aws4_request');
  assert.equal(m[2], createHmac('sha256', kSigning).update(toSign).digest('hex'));
});

test('the MCP token policy computes the PKCE S256 challenge with SHA256', () => {
  const v = exprContaining('mcp-client-authorization__src__apim-oauth__token.policy.xml', 'codeChallengeMethod == "s256"');
  const ctx = makeContext();
  ctx.variables.set('mcpClientAuthData', JSON.stringify({ mcpClientCodeChallengeMethod: 'S256' }));
  const verifier = 'dBjftJeZ4CVP-mJ92K9cmzOjD1E3zw7ROOc8PJy6ZOM';
  ctx.variables.set('mcpClientCodeVerifier', verifier);
  assert.equal(evaluate(v, ctx), createHash('sha256').update(verifier).digest('base64url'));
});

test('the PII anonymization fragment masks regex matches once each, tracked in a HashSet', () => {
  const v = exprContaining('ai-hub-gateway-solution-accelerator__infra__modules__apim__policies__frag-pii-anonymization.xml', 'new Regex(');
  const ctx = makeContext();
  ctx.variables.set('piiInputContent', 'call 555-1234 or 555-1234, mail a@b.io');
  ctx.variables.set('piiRegexPatterns', JSON.stringify([{ pattern: '\\d{3}-\\d{4}', category: 'PHONE' }, { pattern: '[\\w.]+@[\\w.]+', category: 'EMAIL' }]));
  const mappings = JSON.parse(String(evaluate(v, ctx))) as { original: string; placeholder: string }[];
  assert.deepEqual(mappings.map((m) => [m.original, m.placeholder]), [['555-1234', '<PHONE_0>'], ['a@b.io', '<EMAIL_0>']]);
});
