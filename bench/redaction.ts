/**
 * Cost of secret redaction at the sinks: one log line, one error body, with 0, 4 and 32 registered
 * secrets (each recognised in every encoded form). Run: node bench/redaction.ts
 */
import { Redactor } from '../src/secrets/redactor.ts';

const LINE = JSON.stringify({
  level: 40,
  time: new Date().toISOString(),
  service: 'tollgate',
  requestId: '5f0c6a1e-4b7e-4d3b-9d8e-0c1f2a3b4c5d',
  code: 'GW_ERR_BACKEND_UNREACHABLE',
  cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9001' },
  msg: 'Backend "aoai-eastus" failed (ECONNREFUSED).',
});
const BODY = JSON.stringify({ error: { message: 'The gateway failed to process the request.', type: 'server_error', code: 'GW_ERR_INTERNAL', param: null, request_id: '5f0c6a1e' } });

function measure(label: string, r: Redactor, text: string): void {
  const n = 200_000;
  for (let i = 0; i < 10_000; i++) r.redact(text);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) r.redact(text);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`${label.padEnd(44)} ${(ns / 1000).toFixed(2)} µs`);
}

for (const count of [0, 4, 32]) {
  const r = new Redactor();
  const secrets = Array.from({ length: count }, (_, i) => `sk-${i}-${Math.random().toString(36).slice(2)}"&amp;/+=`);
  for (const s of secrets) r.add(s);
  measure(`log line (${LINE.length} B), ${count} secrets`, r, LINE);
  measure(`error body (${BODY.length} B), ${count} secrets`, r, BODY);
  // The worst case: a line that holds a secret (JSON-escaped), so the full patterns run and replace.
  if (count > 0) measure(`log line holding a secret, ${count} secrets`, r, LINE.replace('aoai-eastus', JSON.stringify(secrets[0]).slice(1, -1)));
}
