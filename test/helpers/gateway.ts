/**
 * Starts a real gateway (port 0) in front of real simulators (port 0) for end-to-end tests.
 * Everything talks over loopback sockets; `close()` stops all of it.
 */
import { Writable } from 'node:stream';
import { loadConfigObject } from '../../src/config/load.ts';
import { startGateway, type RunningGateway } from '../../src/gateway/gateway.ts';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/simulator/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { Usage } from '../../src/core/usage.ts';

export const TEST_KEY = 'tg-test-key-0123456789abcdef';
export const BACKEND_KEY = 'backend-secret-key-canary-7f3a9c';

export interface TestGateway {
  gw: RunningGateway;
  sim: RunningSimulator;
  url: string;
  usages: Usage[];
  /** Everything the gateway logged, one JSON line each. */
  logs: string[];
  /** The configuration object the gateway started with (for a test's reload: spread it, change a section). */
  config: Record<string, unknown>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  sim?: SimulatorOptions;
  /** Merged over the default config (shallow per top-level section). */
  config?: Record<string, unknown>;
  /** Backend overrides merged into the default `sim` backend. */
  backend?: Record<string, unknown>;
  deployments?: string[] | null;
  /** More backends; `urlFromSim: true` points one at the test simulator. */
  extraBackends?: Record<string, Record<string, unknown>>;
  extraApis?: Record<string, Record<string, unknown>>;
  logLevel?: string;
  /** Replaces how policies wait (retry back-off): tests record waits instead of sleeping. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The wall clock limit windows use. */
  clock?: () => number;
  /** Policies for the default APIs (both `openai` and `azure-openai`). */
  apiPolicies?: unknown;
  /** More named values (e.g. secrets for backend credentials). */
  extraNamedValues?: Record<string, unknown>;
  /** Runs once the simulator listens and before the gateway starts (e.g. to point the managed identity at it). */
  beforeGateway?: (sim: RunningSimulator) => void;
  /** Where `type: stdout` usage loggers write. */
  stdout?: Writable;
}

export async function startTestGateway(opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const sim = await startSimulator({ name: 'sim', requireKey: BACKEND_KEY, tokensPerSecond: 0, ...opts.sim });
  opts.beforeGateway?.(sim);
  const deployments = opts.deployments === null ? undefined : (opts.deployments ?? ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small']);
  const base: Record<string, unknown> = {
    gateway: { listen: '127.0.0.1:0' },
    admin: { listen: '127.0.0.1:0' },
    log: { level: opts.logLevel ?? 'debug' },
    namedValues: {
      'backend-key': { value: BACKEND_KEY, secret: true },
      'team-key': { value: TEST_KEY, secret: true },
      // Lets policies name the test simulator: {{sim-url}}.
      'sim-url': { value: sim.url },
      ...opts.extraNamedValues,
    },
    backends: {
      sim: { url: `${sim.url}/openai`, credentials: { header: { 'api-key': '{{backend-key}}' } }, ...opts.backend },
      ...Object.fromEntries(
        Object.entries(opts.extraBackends ?? {}).map(([id, { urlFromSim, ...b }]) => [
          id,
          urlFromSim === true ? { url: `${sim.url}/openai`, credentials: { header: { 'api-key': '{{backend-key}}' } }, ...b } : b,
        ]),
      ),
    },
    apis: {
      openai: { path: '', type: 'openai', backend: 'sim', ...(deployments && { deployments }), ...(opts.apiPolicies !== undefined && { policies: opts.apiPolicies }) },
      'azure-openai': { path: 'openai', type: 'openai', backend: 'sim', ...(deployments && { deployments }), ...(opts.apiPolicies !== undefined && { policies: opts.apiPolicies }) },
      ...opts.extraApis,
    },
    products: { starter: { apis: ['openai', 'azure-openai', ...Object.keys(opts.extraApis ?? {})] } },
    subscriptions: { 'team-a': { product: 'starter', keys: ['{{team-key}}'] } },
  };
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  let gw: RunningGateway;
  const config = { ...base, ...opts.config };
  try {
    const loaded = loadConfigObject(config);
    gw = await startGateway(loaded, {
      logger: createLogger(loaded.config.log.level, sink),
      defaultMetrics: false,
      ...(opts.sleep !== undefined && { sleep: opts.sleep }),
      ...(opts.stdout !== undefined && { stdout: opts.stdout }),
      ...(opts.clock !== undefined && { clock: opts.clock }),
    });
  } catch (err) {
    // A configuration that does not load must not leave the simulator running (the test would hang).
    await sim.close();
    throw err;
  }
  const usages: Usage[] = [];
  gw.usageBus.subscribe((u) => usages.push(u));
  return {
    gw,
    sim,
    url: gw.url,
    usages,
    logs,
    config,
    async close() {
      await gw.close(1000);
      await sim.close();
    },
  };
}

/** Waits until `predicate` holds, polling; fails after `timeoutMs`. No fixed sleeps in tests. */
export async function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs `fn` against a fresh test gateway and closes it whatever happens. */
export async function withTestGateway(opts: TestGatewayOptions, fn: (t: TestGateway) => Promise<void>): Promise<void> {
  const t = await startTestGateway(opts);
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

/** `POST /v1/chat/completions` with the test key; `body` is merged over a small gpt-4o request. */
export function postChat(t: TestGateway, body: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'how many tokens is this?' }], max_tokens: 5, ...body }),
  });
}
