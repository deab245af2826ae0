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
import { formatReport, runCorpus } from '../helpers/apim-corpus.ts';

/** THE CORPUS FLOORS: documents that must load, and loaded documents that must answer without a gateway fault. */
export const CORPUS_FLOORS = { documents: 126, loaded: 108, served: 108 } as const;

void test('published APIM policy documents load and answer one chat request without a gateway fault', async (t) => {
  const report = await runCorpus(fileURLToPath(new URL('../fixtures/apim-policies/', import.meta.url)));
  t.diagnostic(formatReport(report));
  assert.equal(report.total, CORPUS_FLOORS.documents, 'the corpus changed: update CORPUS_FLOORS.documents');
  assert.ok(report.loaded >= CORPUS_FLOORS.loaded, `load regression: ${report.loaded} < ${CORPUS_FLOORS.loaded}\n${formatReport(report)}`);
  assert.ok(report.served >= CORPUS_FLOORS.served, `serve regression: ${report.served} < ${CORPUS_FLOORS.served}\n${formatReport(report)}`);
});
