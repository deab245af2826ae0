/**
 * Per-request cost of the ingress steps (path canonicalisation, query-key removal, forwarded
 * headers), in nanoseconds per call, for the paths requests usually take and the slow ones.
 * Run: node scripts/benchmarks/ingress.ts
 */
import { canonicalPath } from '../../src/server/canonical-path.ts';
import { withoutKeyParams } from '../../src/server/query-keys.ts';
import { applyForwarded, TrustedProxies } from '../../src/server/forwarded.ts';

function measure(label: string, fn: () => unknown, iterations = 2_000_000): void {
  for (let i = 0; i < 100_000; i++) fn();
  const start = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < iterations; i++) sink += fn() === undefined ? 0 : 1;
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  console.log(`${label.padEnd(58)} ${ns.toFixed(1).padStart(7)} ns/call${sink < 0 ? '!' : ''}`);
}

const none = new TrustedProxies([]);
const some = new TrustedProxies(['10.0.0.0/8', '127.0.0.1']);
measure('canonicalPath /openai/deployments/gpt-4o/chat/completions', () => canonicalPath('/openai/deployments/gpt-4o/chat/completions'));
measure('canonicalPath /v1/chat/completions', () => canonicalPath('/v1/chat/completions'));
measure('canonicalPath /v1/chat/completions/ (slow path)', () => canonicalPath('/v1/chat/completions/'));
measure('canonicalPath /deployments/gpt-4o/%2e%2e/x/chat (slow path)', () => canonicalPath('/deployments/gpt-4o/%2e%2e/x/chat'));
measure('withoutKeyParams ?api-version=2024-10-21', () => withoutKeyParams('?api-version=2024-10-21'));
measure('withoutKeyParams with a subscription-key', () => withoutKeyParams('?api-version=2024-10-21&subscription-key=abc'));
measure('applyForwarded, untrusted peer, no forwarded headers', () => applyForwarded({ host: 'x', 'content-type': 'application/json' }, '::ffff:127.0.0.1', none));
measure('applyForwarded, trusted peer, 2-hop X-Forwarded-For', () => applyForwarded({ host: 'x', 'x-forwarded-for': '198.51.100.7, 10.1.2.3' }, '127.0.0.1', some));
measure('baseline: object literal with two headers', () => ({ host: 'x', 'content-type': 'application/json' }));
