/** The simulated Azure AI Language PII detection over HTTP: entities, the redaction policies, category filters and the service's limits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from './index.ts';

const KEY = 'lang-key-0123456789';

interface Entity {
  readonly text: string;
  readonly category: string;
  readonly offset: number;
  readonly length: number;
}
interface Results {
  readonly kind?: string;
  readonly results: {
    readonly documents: ReadonlyArray<{ readonly redactedText: string; readonly entities: readonly Entity[] }>;
    readonly errors: ReadonlyArray<{ readonly error: { readonly innererror: { readonly code: string } } }>;
  };
}

async function analyze(url: string, body: unknown, query = '?api-version=2022-05-01'): Promise<{ status: number; json: Results }> {
  const r = await fetch(`${url}/language/:analyze-text${query}`, { method: 'POST', headers: { 'Ocp-Apim-Subscription-Key': KEY, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as Results };
}

const request = (text: string, parameters: Record<string, unknown> = {}): Record<string, unknown> => ({
  kind: 'PiiEntityRecognition',
  parameters,
  analysisInput: { documents: [{ id: '1', text, language: 'en' }] },
});

test('PiiEntityRecognition finds e-mail, phone and card numbers with their offsets and masks them with the redaction character', async () => {
  const sim = await startSimulator({ requireKey: KEY });
  try {
    const text = 'Mail jane@example.com or call +44 20 7946 0958; card 4111 1111 1111 1111.';
    const r = await analyze(sim.url, request(text, { redactionPolicy: { policyKind: 'CharacterMask', redactionCharacter: '#' } }));
    assert.equal(r.status, 200);
    assert.equal(r.json.kind, 'PiiEntityRecognitionResults');
    const doc = r.json.results.documents[0];
    assert.ok(doc !== undefined);
    assert.deepEqual(
      doc.entities.map((e) => [e.category, e.text]),
      [['Email', 'jane@example.com'], ['PhoneNumber', '+44 20 7946 0958'], ['CreditCardNumber', '4111 1111 1111 1111']],
    );
    for (const e of doc.entities) assert.equal(text.slice(e.offset, e.offset + e.length), e.text);
    assert.equal(doc.redactedText, `Mail ${'#'.repeat(16)} or call ${'#'.repeat(16)}; card ${'#'.repeat(19)}.`);
    assert.deepEqual(r.json.results.errors, []);
  } finally {
    await sim.close();
  }
});

test('EntityMask and NoMask redaction, piiCategories narrowing, and text without personal data', async () => {
  const sim = await startSimulator({ requireKey: KEY });
  try {
    const text = 'jane@example.com from 10.1.2.3';
    const entity = await analyze(sim.url, request(text, { redactionPolicy: { policyKind: 'EntityMask' } }));
    assert.equal(entity.json.results.documents[0]?.redactedText, '[Email] from [IPAddress]');
    const none = await analyze(sim.url, request(text, { redactionPolicy: { policyKind: 'NoMask' }, piiCategories: ['IPAddress'] }));
    assert.equal(none.json.results.documents[0]?.redactedText, text);
    assert.deepEqual(none.json.results.documents[0]?.entities.map((e) => e.category), ['IPAddress']);
    const clean = await analyze(sim.url, request('What is the weather in Lisbon?'));
    assert.deepEqual(clean.json.results.documents[0]?.entities, []);
    assert.equal(clean.json.results.documents[0]?.redactedText, 'What is the weather in Lisbon?');
  } finally {
    await sim.close();
  }
});

test('the service\'s limits: api-version required, 5 documents at most, 5,120 characters per document, PiiEntityRecognition only', async () => {
  const sim = await startSimulator({ requireKey: KEY });
  try {
    assert.equal((await analyze(sim.url, request('x'), '')).status, 404);
    const six = { kind: 'PiiEntityRecognition', analysisInput: { documents: Array.from({ length: 6 }, (_, i) => ({ id: String(i), text: 'x' })) } };
    assert.equal((await analyze(sim.url, six)).status, 400);
    const long = await analyze(sim.url, request('a'.repeat(5121)));
    assert.equal(long.status, 200);
    assert.deepEqual(long.json.results.documents, []);
    assert.equal(long.json.results.errors[0]?.error.innererror.code, 'InvalidDocument');
    assert.equal((await analyze(sim.url, { kind: 'SentimentAnalysis', analysisInput: { documents: [{ id: '1', text: 'x' }] } })).status, 400);
    const unauth = await fetch(`${sim.url}/language/:analyze-text?api-version=2022-05-01`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request('x')) });
    assert.equal(unauth.status, 401);
  } finally {
    await sim.close();
  }
});
