/**
 * The seeds' backend pool behind a real gateway: three simulators (a PTU deployment and two
 * pay-as-you-go ones), each a backend with the seed's circuit breaker shape, pooled as
 * `openai-backend-pool` with priorities 1/2/2 and weights 1/3/1.
 */
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/simulator/index.ts';
import { BACKEND_KEY, TEST_KEY, startTestGateway, type TestGateway, type TestGatewayOptions } from './gateway.ts';

export const MEMBERS = ['openai-ptu-eastus', 'openai-payg-westus', 'openai-payg-northeu'] as const;
export type MemberId = (typeof MEMBERS)[number];

/** The breaker of Microsoft's AI samples: one 429 trips it, for the Retry-After. */
export const SEED_BREAKER = {
  rules: [
    {
      name: 'openai-circuit-breaker',
      failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: [{ min: 429, max: 429 }, { min: 500, max: 599 }] },
      tripDuration: 'PT1M',
      acceptRetryAfter: true,
    },
  ],
};

/** The seed's failover idiom (AIG labs): retry on 429/5xx, first retry at once. */
export const RETRY_FAILOVER = `<retry condition="@(context.Response.StatusCode == 429 || context.Response.StatusCode >= 500)" count="2" interval="0" first-fast-retry="true"><forward-request buffer-request-body="true" /></retry>`;

export interface PoolHarness extends TestGateway {
  readonly sims: Readonly<Record<MemberId, RunningSimulator>>;
  /** Requests each member received since the harness started (or since `resetCounts`). */
  counts(): Record<MemberId, number>;
  resetCounts(): void;
  chat(body?: Record<string, unknown>, headers?: Record<string, string>, signal?: AbortSignal): Promise<Response>;
  status(): Promise<AdminStatus>;
  /** One backend's `health` from the admin /status (default: the PTU member). */
  health(id?: MemberId): Promise<BackendHealthStatus>;
}

export type BackendHealthStatus = AdminStatus['backends'][number]['health'];

export interface AdminStatus {
  backends: Array<{ id: string; health: { state: string; retryInSeconds: number; trips: number; lastTrip: { rule: string; reason: string; until: string } | null; recent: { requests: number; failures: number }; skippedUntil: string | null } }>;
  pools: Array<{ id: string; members: Array<{ id: string; priority: number; weight: number; state: string }> }>;
}

export interface PoolOptions extends Pick<TestGatewayOptions, 'clock' | 'sleep'> {
  /** Breaker per member (default: the seed breaker on all three); null for none. */
  breaker?: unknown;
  /** The backend section (default: a plain forward-request). */
  backendSection?: string;
  /** A whole API policy document instead (it must choose the pool itself). */
  policyDocument?: string;
  /** Extra backend fields per member (timeouts, rateLimitHeaders). */
  memberConfig?: Partial<Record<MemberId, Record<string, unknown>>>;
  services?: Array<{ id: string; priority: number; weight: number }>;
  /** Simulator options per member (e.g. a tpm so it sends x-ratelimit-* headers). */
  simOptions?: Partial<Record<MemberId, SimulatorOptions>>;
  /** Another replica: the simulators of an existing harness (closed by that harness, not this one). */
  shareSims?: PoolHarness;
  /** `state:` config (e.g. Redis, to share circuits between replicas). */
  state?: Record<string, unknown>;
}

export async function startPool(opts: PoolOptions = {}): Promise<PoolHarness> {
  const sims = {} as Record<MemberId, RunningSimulator>;
  for (const id of MEMBERS) sims[id] = opts.shareSims?.sims[id] ?? (await startSimulator({ name: id, requireKey: BACKEND_KEY, tokensPerSecond: 0, ...opts.simOptions?.[id] }));
  const breakerFor = (id: MemberId): unknown => {
    const b = opts.breaker === undefined ? SEED_BREAKER : opts.breaker;
    if (b !== null && typeof b === 'object' && MEMBERS.some((m) => m in b)) return (b as Record<string, unknown>)[id];
    return b ?? undefined;
  };
  const extraBackends: Record<string, Record<string, unknown>> = {};
  for (const id of MEMBERS) {
    const breaker = breakerFor(id);
    extraBackends[id] = {
      url: `${sims[id].url}/openai`,
      credentials: { header: { 'api-key': '{{backend-key}}' } },
      ...(breaker !== undefined && breaker !== null && { circuitBreaker: breaker }),
      ...opts.memberConfig?.[id],
    };
  }
  extraBackends['openai-backend-pool'] = {
    type: 'Pool',
    pool: {
      services: opts.services ?? [
        { id: '/backends/openai-ptu-eastus', priority: 1, weight: 1 },
        { id: '/backends/openai-payg-westus', priority: 2, weight: 3 },
        { id: '/backends/openai-payg-northeu', priority: 2, weight: 1 },
      ],
    },
  };
  const t = await startTestGateway({
    extraBackends,
    apiPolicies: opts.policyDocument ?? `<policies><inbound><base /><set-backend-service backend-id="openai-backend-pool" /></inbound><backend>${opts.backendSection ?? '<forward-request />'}</backend><outbound><base /></outbound><on-error><base /></on-error></policies>`,
    logLevel: 'info',
    ...(opts.state !== undefined && { config: { state: opts.state } }),
    ...(opts.clock !== undefined && { clock: opts.clock }),
    ...(opts.sleep !== undefined && { sleep: opts.sleep }),
  });
  const status = async (): Promise<AdminStatus> => (await (await fetch(`${t.gw.adminUrl}/status`)).json()) as AdminStatus;
  let base = Object.fromEntries(MEMBERS.map((id) => [id, 0])) as Record<MemberId, number>;
  const counts = (): Record<MemberId, number> => Object.fromEntries(MEMBERS.map((id) => [id, sims[id].stats.requests - base[id]])) as Record<MemberId, number>;
  return {
    ...t,
    sims,
    counts,
    resetCounts() {
      base = Object.fromEntries(MEMBERS.map((id) => [id, sims[id].stats.requests])) as Record<MemberId, number>;
    },
    chat(body = {}, headers = {}, signal) {
      return fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'pool test' }], max_tokens: 5, ...body }),
        ...(signal !== undefined && { signal }),
      });
    },
    status,
    async health(id = 'openai-ptu-eastus') {
      const found = (await status()).backends.find((b) => b.id === id);
      if (found === undefined) throw new Error(`no backend ${id} in /status`);
      return found.health;
    },
    async close() {
      await t.close();
      if (opts.shareSims === undefined) await Promise.all(MEMBERS.map((id) => sims[id].close()));
    },
  };
}

/** Sends `n` requests, `concurrency` at a time; returns the statuses. */
export async function burst(n: number, concurrency: number, send: () => Promise<Response>): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        const res = await send();
        await res.arrayBuffer();
        statuses.push(res.status);
      }
    }),
  );
  return statuses;
}
