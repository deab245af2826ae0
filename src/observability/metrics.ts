/**
 * Prometheus metrics on the admin listener (`/metrics`). One registry per gateway instance so
 * tests and embedded use never collide on prom-client's global registry.
 * @module
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly requests: Counter<'api' | 'operation' | 'status'>;
  readonly duration: Histogram<'api' | 'operation'>;
  readonly tokens: Counter<'api' | 'deployment' | 'type'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    this.requests = new Counter({
      name: 'tollgate_requests_total',
      help: 'Requests answered by the gateway, by API, operation and HTTP status (499: client closed first).',
      labelNames: ['api', 'operation', 'status'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'tollgate_request_duration_seconds',
      help: 'Time from request arrival to the last byte sent, by API and operation.',
      labelNames: ['api', 'operation'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [this.registry],
    });
    this.tokens = new Counter({
      name: 'tollgate_tokens_total',
      help: 'Tokens metered from backend usage reports (or counted locally when a backend reported none).',
      labelNames: ['api', 'deployment', 'type'],
      registers: [this.registry],
    });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'tollgate_' });
  }
}
