/**
 * `tollgate usage`: totals from the usage ledger per subscription, product, deployment or UTC
 * day, as a table (or `--json`, the admin `/usage` answer's shape). Reads the ledger the
 * configuration names (`--config FILE`; without it, the demo's ledger file), directly, so it works
 * whether or not a gateway is running.
 * @module
 */
import { existsSync } from 'node:fs';
import { UsageError, parseCommandArgs } from './args.ts';
import { ConfigError, formatIssue, loadConfigFile } from '../config/load.ts';
import { ledgerPath, openLedgerStore, type LedgerTarget } from '../ledger/index.ts';
import { usageQuery, UsageQueryError } from '../ledger/query-params.ts';
import type { UsageQuery, UsageRow } from '../ledger/store.ts';
import { demoLedgerPath } from './demo.ts';
import { printTable } from './status.ts';
import { redactSecrets } from '../secrets/redactor.ts';

export async function usage(args: string[]): Promise<number> {
  const values = parseCommandArgs(args, {
    by: { type: 'string', default: 'subscription' },
    since: { type: 'string' },
    until: { type: 'string' },
    json: { type: 'boolean', default: false },
    config: { type: 'string', short: 'c' },
  });
  let q: UsageQuery;
  try {
    q = usageQuery(values.by, values.since, values.until, Date.now());
  } catch (err) {
    if (err instanceof UsageQueryError) throw new UsageError(err.message.replace(/^groupBy/, '--by').replace(/^from/, '--since').replace(/^to/, '--until'));
    throw err;
  }
  let ledger: LedgerTarget;
  let file: string | undefined;
  if (values.config !== undefined) {
    try {
      const loaded = loadConfigFile(values.config);
      file = loaded.file;
      const lc = loaded.config.ledger;
      if (lc.store === 'off') {
        console.error(`tollgate usage: ${values.config} configures no ledger (set ledger.store to sqlite or postgres)`);
        return 1;
      }
      ledger = lc;
    } catch (err) {
      if (err instanceof ConfigError) {
        for (const issue of err.issues) console.error(formatIssue(issue));
        return 1;
      }
      throw err;
    }
  } else {
    ledger = { store: 'sqlite', path: demoLedgerPath(process.env), timeoutMs: 5000 };
  }
  if (ledger.store === 'sqlite' && !existsSync(ledgerPath(ledger.path, file))) {
    console.error(`tollgate usage: no ledger at ${ledgerPath(ledger.path, file)} yet (nothing recorded, or a different --config)`);
    return 1;
  }
  const store = openLedgerStore(ledger, file, () => undefined, true);
  let rows: UsageRow[];
  try {
    rows = await store.query(q);
  } catch (err) {
    console.error(redactSecrets(`tollgate usage: cannot read the ledger: ${(err as Error).message}`));
    return 1;
  } finally {
    await store.close();
  }
  if (values.json) {
    console.log(JSON.stringify({ groupBy: q.groupBy, from: q.from, to: q.to, rows }, null, 2));
    return 0;
  }
  const sum = (f: (r: UsageRow) => number): number => rows.reduce((a, r) => a + f(r), 0);
  const line = (key: string, r: Pick<UsageRow, 'requests' | 'promptTokens' | 'completionTokens' | 'totalTokens' | 'costUsd'>): string[] => [key, String(r.requests), String(r.promptTokens), String(r.completionTokens), String(r.totalTokens), r.costUsd.toFixed(6)];
  const total = { requests: sum((r) => r.requests), promptTokens: sum((r) => r.promptTokens), completionTokens: sum((r) => r.completionTokens), totalTokens: sum((r) => r.totalTokens), costUsd: sum((r) => r.costUsd) };
  const range = `${q.from ?? 'the beginning'} to ${q.to ?? 'now'}`;
  console.log(`usage by ${q.groupBy}, ${range}\n`);
  printTable([q.groupBy.toUpperCase(), 'REQUESTS', 'PROMPT', 'COMPLETION', 'TOTAL', 'COST (USD)'], [...rows.map((r) => line(r.key ?? '(none)', r)), line('TOTAL', total)]);
  return 0;
}
