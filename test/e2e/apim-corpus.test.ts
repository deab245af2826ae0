/**
 * Real-world APIM policy documents (test/fixtures/apim-policies/, 126 documents and fragments from
 * Microsoft's public sample repositories; provenance in its README) load and serve one chat
 * request each. The floors below are the rates measured on this branch: a regression fails the
 * test and the printed report names the cause. Raise them when a change lifts the rates
 * (`node scripts/apim-corpus.ts` prints the same report).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fillPlaceholders, formatReport, runCorpus } from '../helpers/apim-corpus.ts';

/**
 * THE CORPUS FLOORS: documents that must load, and loaded documents that must answer without a
 * gateway fault. Measured 2026-12-03: 126 load, 126 answer (the last fault, hr_pii_product_policy,
 * called Azure AI Language PII detection, which the simulator now plays; its outbound reads
 * `context.Response.Body`, which a held answer gives).
 */
export const CORPUS_FLOORS = { documents: 126, loaded: 126, served: 126 } as const;

void test('published APIM policy documents load and answer one chat request without a gateway fault', async (t) => {
  const report = await runCorpus(fileURLToPath(new URL('../fixtures/apim-policies/', import.meta.url)));
  t.diagnostic(formatReport(report));
  assert.equal(report.total, CORPUS_FLOORS.documents, 'the corpus changed: update CORPUS_FLOORS.documents');
  assert.ok(report.loaded >= CORPUS_FLOORS.loaded, `load regression: ${report.loaded} < ${CORPUS_FLOORS.loaded}\n${formatReport(report)}`);
  assert.ok(report.served >= CORPUS_FLOORS.served, `serve regression: ${report.served} < ${CORPUS_FLOORS.served}\n${formatReport(report)}`);
});

void test('deploy-time placeholders are filled as the corpus README says; the documents\' own C# braces are left alone', () => {
  const lab = '<set-backend-service backend-id="{backend-id}" /><retry count="{retry-count}" /><x v="@($"{region}/{model}")" />';
  assert.equal(fillPlaceholders(lab, 'pool'), '<set-backend-service backend-id="pool" /><retry count="2" /><x v="@($"{region}/{model}")" />');
  // A Bicep format() template: arguments by position, doubled braces for literal ones.
  const bicep = '<set-backend-service backend-id="{0}" /><llm-token-limit tokens-per-minute="{1}" /><set-variable name="x" value="@{{ return "{2}"; }}" /><value>{{{{nv}}}}</value>';
  assert.equal(
    fillPlaceholders(bicep, 'pool'),
    '<set-backend-service backend-id="pool" /><llm-token-limit tokens-per-minute="1000" /><set-variable name="x" value="@{ return "value2"; }" /><value>{{nv}}</value>',
  );
  const csharp = '<x v="@(string.Format("/deployments/{0}/chat", m))" />';
  assert.equal(fillPlaceholders(csharp, 'pool'), csharp);
});
