/**
 * The admin listener (its own port, loopback by default): liveness, readiness, a config and
 * backend summary without secrets (with each backend's circuit breaker state and recent error
 * rate), Prometheus metrics, usage totals from the ledger (`/usage`), and the usage dashboard
 * (`/dashboard`, src/admin/dashboard.ts).
 *
 * With `admin.keys` set (mandatory when the listener is not on loopback), every path but exactly
 * `/health`, `/ready` and the dashboard's static files answers 401 without a key, whatever it is (unknown paths, `//status`,
 * `/%2e/status`, any method): the key is checked before routing, so no spelling reaches a route
 * unauthenticated. Everything the listener writes passes the secret redactor.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Runtime } from '../gateway/runtime.ts';
import type { Metrics } from '../observability/metrics.ts';
import { redactSecrets } from '../secrets/redactor.ts';
import { AdminKeys, OPEN_ADMIN_PATHS } from './auth.ts';
import type { UsageQuery, UsageRow } from '../ledger/store.ts';
import { usageQuery, UsageQueryError } from '../ledger/query-params.ts';
import { isDashboardPath, serveDashboard } from './dashboard.ts';

export interface AdminDeps {
  readonly runtime: () => Runtime;
  readonly metrics: Metrics;
  readonly ready: () => boolean;
  readonly inFlight: () => number;
  readonly startedAt: Date;
  readonly version: string;
  readonly configFile: string | undefined;
  /** Wall clock for breaker times (tests move it). */
  readonly clock: () => number;
  /** The ledger's usage query, when a ledger is configured. */
  readonly usage?: ((q: UsageQuery) => Promise<UsageRow[]>) | undefined;
  /** The ledger writer's counters for /status, when a ledger is configured. */
  readonly ledgerStatus?: (() => unknown) | undefined;
}

export function createAdminHandler(deps: AdminDeps): (req: IncomingMessage, res: ServerResponse) => void {
  // Keys follow configuration reloads: rebuilt when the runtime's config object changes.
  let keys: { config: Runtime['config']; keys: AdminKeys } | null = null;
  const keysFor = (config: Runtime['config']): AdminKeys => {
    if (keys?.config !== config) keys = { config, keys: new AdminKeys(config.admin.keys) };
    return keys.keys;
  };
  return function adminHandler(req, res) {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    // The dashboard's page, script and styles hold no data (its numbers come from /usage and
    // /status, which need the key): a browser opening the page cannot send a header.
    if (isDashboardPath(path) && (req.method === 'GET' || req.method === 'HEAD')) return serveDashboard(path, req.method === 'HEAD', res);
    const admin = keysFor(deps.runtime().config);
    if (!OPEN_ADMIN_PATHS.has(path) && !admin.open && !admin.accepts(req.headers)) {
      res.setHeader('www-authenticate', 'Bearer realm="tollgate-admin"');
      return json(res, 401, { error: { message: 'This admin endpoint needs an admin key: send Authorization: Bearer <key> (or api-key: <key>).', code: 'GW_ERR_ADMIN_UNAUTHORIZED' } });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: { message: 'Only GET is supported here.', code: 'GW_ERR_METHOD_NOT_ALLOWED' } });
    switch (path) {
      case '/health':
        return json(res, 200, { status: 'ok' });
      case '/ready':
        return deps.ready() ? json(res, 200, { status: 'ready' }) : json(res, 503, { status: 'draining' });
      case '/status':
        return json(res, 200, status(deps));
      case '/metrics':
        deps.metrics.registry.metrics().then(
          (text) => {
            const body = redactSecrets(text);
            res.writeHead(200, { 'content-type': deps.metrics.registry.contentType, 'content-length': Buffer.byteLength(body) });
            res.end(body);
          },
          () => json(res, 500, { error: { message: 'metrics collection failed', code: 'GW_ERR_INTERNAL' } }),
        );
        return;
      case '/usage':
        return usage(deps, req.url ?? '/', res);
      default:
        return json(res, 404, { error: { message: `No admin endpoint at ${path}.`, code: 'GW_ERR_ROUTE_NOT_FOUND' } });
    }
  };
}

/** What is configured, by id: never a key, a credential value or a named value's content. */
function status(deps: AdminDeps): unknown {
  const rt = deps.runtime();
  const c = rt.config;
  const now = deps.clock();
  return {
    version: deps.version,
    startedAt: deps.startedAt.toISOString(),
    uptimeSeconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000),
    ready: deps.ready(),
    inFlight: deps.inFlight(),
    configFile: deps.configFile ?? null,
    gateway: { listen: c.gateway.listen, maxBodyBytes: c.gateway.maxBodyBytes },
    backends: [...rt.backends.values()].map((b) => ({
      id: b.id,
      url: b.displayUrl,
      credentialHeaders: Object.keys(b.credentialHeaders),
      timeouts: b.timeouts,
      health: b.health.status(now),
    })),
    pools: [...rt.pools.values()]
      .filter((p) => p.isPool)
      .map((p) => ({
        id: p.id,
        members: p.members.map((m) => ({ id: m.backend.id, priority: m.priority, weight: m.weight, state: m.backend.health.status(now).state })),
      })),
    apis: Object.entries(c.apis).map(([id, a]) => ({
      id,
      path: a.path,
      type: a.type,
      backend: a.backend ?? null,
      deployments: a.deployments ?? null,
      subscriptionRequired: a.subscriptionRequired,
    })),
    products: Object.entries(c.products).map(([id, p]) => ({ id, apis: p.apis })),
    subscriptions: Object.entries(c.subscriptions).map(([id, s]) => ({ id, product: s.product, state: s.state, keys: s.keys.length })),
    namedValues: Object.entries(c.namedValues).map(([id, v]) => ({ id, secret: v.secret, source: v.env !== undefined ? 'env' : v.file !== undefined ? 'file' : 'value' })),
    ledger: deps.ledgerStatus?.() ?? null,
  };
}

/**
 * `GET /usage?groupBy=&from=&to=`: totals per subscription, product, deployment or UTC day. Served
 * only where the admin listener is: on loopback, or behind admin keys (gateway.ts refuses to
 * start an open admin listener elsewhere).
 */
function usage(deps: AdminDeps, url: string, res: ServerResponse): void {
  if (deps.usage === undefined) return json(res, 404, { error: { message: 'No usage ledger is configured (set ledger.store in the configuration).', code: 'GW_ERR_ROUTE_NOT_FOUND' } });
  let q: UsageQuery;
  try {
    const params = new URL(url, 'http://admin').searchParams;
    q = usageQuery(params.get('groupBy'), params.get('from'), params.get('to'), deps.clock(), params.get('subscription'));
  } catch (err) {
    if (err instanceof UsageQueryError) return json(res, 400, { error: { message: err.message, code: 'GW_ERR_INVALID_REQUEST', param: err.param } });
    throw err;
  }
  deps.usage(q).then(
    (rows) => json(res, 200, { groupBy: q.groupBy, from: q.from, to: q.to, ...(q.subscription === null ? {} : { subscription: q.subscription }), rows }),
    () => json(res, 503, { error: { message: 'The usage ledger cannot be read right now; retry shortly.', code: 'GW_ERR_STATE_UNAVAILABLE' } }),
  );
}

function json(res: ServerResponse, status: number, body: unknown): void {
  // The admin JSON writer is a sink: a secret inside a backend URL, an id or a message is scrubbed here.
  const data = redactSecrets(JSON.stringify(body, null, 2));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}
