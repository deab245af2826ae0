/**
 * Prints the APIM corpus report for a directory of policy documents laid out like
 * test/fixtures/apim-policies/ (placeholders, a README with the fragment-id table):
 *
 *   node scripts/apim-corpus.ts [dir]     (default: test/fixtures/apim-policies)
 *
 * Each document is loaded with the configuration it needs and serves one chat request against the
 * simulator; the report gives the load and no-gateway-fault rates and every failure by cause.
 */
import { resolve } from 'node:path';
import { formatReport, runCorpus } from '../test/helpers/apim-corpus.ts';

const dir = resolve(process.argv[2] ?? new URL('../test/fixtures/apim-policies/', import.meta.url).pathname);
const verbose = process.argv.includes('--verbose');
const report = await runCorpus(dir, {
  onResult: (r) => {
    if (verbose) process.stderr.write(`${r.file}: ${r.loadError ? `load error: ${r.loadError.detail}` : (r.serve?.kind ?? '')}\n`);
  },
});
process.stdout.write(`${formatReport(report)}\n`);
