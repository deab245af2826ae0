/**
 * A running gateway: data-plane and admin listeners, the simulators the config declares, and an
 * orderly shutdown (stop accepting → drain in-flight requests and streams for the grace period →
 * cut what is left → close pools).
 * @module
 */
import { answerConnectWith } from '../server/connect.ts';
import { createServer, type Server } from 'node:http';
import { closeServer, listen, listenerError } from './listen.ts';
import { ConfigError, type LoadedConfig } from '../config/load.ts';
import { UsageBus } from '../core/usage.ts';
import { Metrics } from '../observability/metrics.ts';
import { createLogger, describeCause, type Logger } from '../observability/logger.ts';
import { RequestHandler } from '../server/handler.ts';
import { withFramingChecks } from '../server/framing.ts';
import { createAdminHandler } from '../admin/server.ts';
import { adminKeyProblem } from '../admin/auth.ts';
import type { RunningSimulator } from '../simulator/index.ts';
import { countPromptTokens, countTextTokens } from '../tokenizer/index.ts';
import { buildRuntime, type Runtime } from './runtime.ts';
import { fetchApiSpecs } from '../config/remote-specs.ts';
import { VERSION } from '../version.ts';
import { createLimitStore, redisTarget } from './state.ts';
import { HealthRegistry } from '../upstream/health.ts';
import { CircuitSharing } from '../upstream/circuit-sharing.ts';
import type { Backend } from '../upstream/backend.ts';
import { RedisCircuitStore } from '../state/redis-circuit-store.ts';
import { createResponseCaches, reconfigureResponseCaches, type ResponseCaches } from '../cache/services.ts';
import { shareCaches, sharingTarget } from './cache-sharing.ts';
import { OutageLog } from '../state/outage-log.ts';
import { IdentityService } from '../identity/service.ts';
import { createLedger, createPricing, type Ledger } from '../ledger/index.ts';
import { BudgetGate } from '../ledger/budget.ts';
import { preloadEncodings } from '../tokenizer/index.ts';
import { startOtlpExport, type OtlpExport } from '../observability/otlp.ts';
import type { Writable } from 'node:stream';

export interface StartOptions {
  readonly logger?: Logger;
  /** Injected in tests: the wall clock limit windows use. */
  readonly clock?: () => number;
  /** Injected in tests: how policies wait (retry back-off). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Collect prom-client's process metrics (off in tests to keep them cheap). */
  readonly defaultMetrics?: boolean;
  /** Where `type: stdout` usage loggers write (default process.stdout). */
  readonly stdout?: Writable;
}

export interface RunningGateway {
  /** `http://host:port` of the data plane. */
  readonly url: string;
  /** `http://host:port` of the admin listener, or null when disabled. */
  readonly adminUrl: string | null;
  readonly runtime: Runtime;
  readonly usageBus: UsageBus;
  readonly metrics: Metrics;
  readonly simulators: ReadonlyMap<string, RunningSimulator>;
  readonly handler: RequestHandler;
  /** The semantic and response caches (they outlive reloads). */
  readonly responseCaches: ResponseCaches;
  /** The usage ledger (`ledger:`), or null when none is configured. */
  readonly ledger: Ledger | null;
  /** The runtime serving new requests (replaced by `reload`). */
  current(): Runtime;
  /**
   * Swaps in a new configuration (SIGHUP). Listeners, simulators and the admin port stay as they
   * are. On failure (e.g. a policy document that does not compile) the running configuration stays
   * in force and the ConfigError is thrown.
   */
  reload(loaded: LoadedConfig): Promise<void>;
  /** Drains for `graceMs` (default: gateway.shutdownGraceMs), then cuts the rest. Idempotent. */
  close(graceMs?: number): Promise<void>;
}

export async function startGateway(given: LoadedConfig, opts: StartOptions = {}): Promise<RunningGateway> {
  // Specs named by URL are fetched (through the outbound SSRF guard) before anything starts.
  const loaded = await fetchApiSpecs(given);
  const config = loaded.config;
  // Checked again here: `start --admin-listen` may have moved the admin listener after the load.
  if (config.admin.enabled) refuseOpenAdmin(loaded, config.admin.listen);
  const logger = opts.logger ?? createLogger(config.log.level);
  const now = performance.now.bind(performance);

  const simulators = new Map<string, RunningSimulator>();
  // Whatever started before a failure is stopped again, so a failed start (a port in use, a
  // policy that does not compile) leaves nothing running and the process can exit.
  const started: Array<() => Promise<unknown>> = [];
  const failed = async (err: unknown): Promise<never> => {
    await Promise.allSettled(started.reverse().map((stop) => stop()));
    throw err;
  };
  // The simulator's modules are loaded only by a config that runs one (resident memory).
  const { startSimulator } = Object.keys(config.simulators).length > 0 ? await import('../simulator/index.ts') : { startSimulator: null };
  for (const [name, sim] of Object.entries(config.simulators)) {
    if (startSimulator === null) break;
    simulators.set(
      name,
      await startSimulator({
        name,
        host: sim.host,
        port: sim.port,
        ...(sim.tpm !== undefined && { tpm: sim.tpm }),
        ...(sim.rpm !== undefined && { rpm: sim.rpm }),
        ...(sim.latencyMs !== undefined && { latencyMs: sim.latencyMs }),
        ...(sim.tokensPerSecond !== undefined && { tokensPerSecond: sim.tokensPerSecond }),
        ...(sim.failRate !== undefined && { failRate: sim.failRate }),
        ...(sim.models !== undefined && { models: sim.models }),
        ...(sim.fault !== undefined && { fault: sim.fault }),
      }).catch((err: unknown) => failed(listenerError(`simulator "${name}"`, `${sim.host}:${sim.port}`, err))),
    );
    const running = simulators.get(name);
    started.push(async () => running?.close());
  }

  const metrics = new Metrics({ defaultMetrics: opts.defaultMetrics ?? true, maxSeriesPerMetric: config.telemetry.maxSeriesPerMetric });
  metrics.onSeriesOverflow((metric, cap) =>
    logger.warn({ metric, cap }, `metric ${metric} reached telemetry.maxSeriesPerMetric (${cap} label sets); new label sets are counted under "other"`),
  );
  // The OpenTelemetry SDK is loaded only when telemetry.otlp is set (at start; a reload keeps it).
  let otlp: OtlpExport | null = null;
  if (config.telemetry.otlp !== undefined) {
    otlp = await startOtlpExport(config.telemetry.otlp, metrics, logger).catch(failed);
    const started_ = otlp;
    started.push(() => started_.close());
  }
  // Counters outlive configuration reloads: one store for the life of the process.
  const limits = await createLimitStore(config, logger, metrics);
  started.push(() => limits.close());
  const clock = opts.clock ?? Date.now;
  // Breaker state outlives reloads too: an open circuit stays open when the config changes.
  // With Redis, open circuits are shared by every replica (created below, once the runtime exists).
  let sharing: CircuitSharing | null = null;
  const health = new HealthRegistry((backend) => ({
    opened(trip) {
      metrics.circuitTransitions.inc({ backend, state: 'open' });
      logger.warn({ backend, rule: trip.rule, reason: trip.reason, until: new Date(trip.until).toISOString() }, 'circuit breaker opened');
      sharing?.opened(backend, trip);
    },
    closed() {
      metrics.circuitTransitions.inc({ backend, state: 'closed' });
      logger.info({ backend }, 'circuit breaker closed');
      sharing?.closed(backend);
    },
  }));
  // Cached answers outlive reloads too (their settings are the ones the process started with).
  const responseCaches = createResponseCaches(config.cache.responses, { clock });
  const cacheSharing = shareCaches(config, responseCaches, logger);
  started.push(async () => cacheSharing?.stop());
  // Tokens and issuer keys outlive reloads too: a reload refetches neither.
  const identity = new IdentityService({ logger, clock });
  started.push(() => identity.close());
  metrics.trackIdentityTokens(() => identity.tokens.counts());
  const runtimeDeps = {
    responseCaches,
    metrics,
    logger,
    now,
    limits,
    health,
    identity,
    ...(opts.stdout !== undefined && { stdout: opts.stdout }),
    ...(opts.sleep !== undefined && { sleep: opts.sleep }),
    ...(opts.clock !== undefined && { clock: opts.clock }),
  };
  let runtime: Runtime;
  try {
    runtime = buildRuntime(loaded, runtimeDeps);
    preloadEncodings(runtime.countedModels);
  } catch (err) {
    return failed(err);
  }
  started.push(() => runtime.close());
  sharing = shareCircuits(config, () => runtime.backends.values(), clock, logger);
  started.push(async () => sharing?.stop());
  metrics.trackCircuits(() =>
    [...runtime.backends.values()].filter((b) => b.health.breaker !== null).map((b) => [b.id, b.health.breaker?.state(clock()) !== 'closed'] as const),
  );
  for (const notice of runtime.notices) logger.info({ notice }, 'policy notice');
  const usageBus = new UsageBus((err) => logger.error({ err: describeCause(err) }, 'usage consumer failed'));
  // Prices, the ledger and its database outlive reloads (like the limit store): the configuration
  // the process started with decides them; budgets follow reloads (they are read per configuration).
  const pricing = createPricing(config, logger);
  let ledger: Ledger | null;
  try {
    ledger = createLedger(config, loaded.file, logger, pricing);
  } catch (err) {
    return failed(err);
  }
  if (ledger !== null) {
    started.push(() => ledger.close());
    usageBus.subscribe(ledger.record);
  }
  // Checked per record, not once: a reload may change log.level.
  usageBus.subscribe(
    (usage) => logger.debug({ usage }, 'usage'),
    () => logger.isLevelEnabled('debug'),
  );

  const handler = new RequestHandler({
    runtime: () => runtime,
    usageBus,
    metrics,
    logger,
    now,
    budgets: new BudgetGate(limits, pricing, clock),
    estimator: {
      prompt: (body, operation, model) => countPromptTokens(body, operation, model),
      text: (text, model) => countTextTokens(text, model),
    },
  });

  const server = createServer(
    {
      headersTimeout: config.gateway.headersTimeoutMs,
      requestTimeout: config.gateway.requestTimeoutMs,
      // Node enforces both timeouts only when it sweeps its connections, every 30 s by default:
      // a 3 s headersTimeout then closed slow-header sockets after 11-28 s. Sweep often enough
      // that a timeout fires within a tenth of itself (at most a second late).
      connectionsCheckingInterval: timeoutSweepMs(config.gateway.headersTimeoutMs, config.gateway.requestTimeoutMs),
      keepAliveTimeout: 65_000,
    },
    withFramingChecks(handler.handle),
  );
  answerConnectWith(server, handler.handle);
  const url = await listen(server, config.gateway.listen, 'gateway').catch(failed);
  started.push(() => closeServer(server));

  let admin: Server | null = null;
  let adminUrl: string | null = null;
  if (config.admin.enabled) {
    admin = createServer(
      createAdminHandler({
        runtime: () => runtime,
        metrics,
        ready: () => !handler.draining,
        inFlight: () => handler.inFlight.size,
        startedAt: new Date(),
        version: VERSION,
        configFile: loaded.file,
        clock,
        usage: ledger?.query,
        ledgerStatus: ledger?.status,
      }),
    );
    adminUrl = await listen(admin, config.admin.listen, 'admin').catch(failed);
  }

  let closing: Promise<void> | undefined;
  async function shutdown(graceMs: number): Promise<void> {
    handler.draining = true;
    server.close();
    server.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while (handler.inFlight.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
    }
    if (handler.inFlight.size > 0) {
      logger.warn({ inFlight: handler.inFlight.size }, 'shutdown grace period over; cutting remaining requests');
      for (const ctx of handler.inFlight) ctx.abort();
      // A cut request still ends with its usage record (status 499 or its error): give the
      // handlers a moment to publish it, so the ledger below gets every row.
      const cutDeadline = Date.now() + 2000;
      while (handler.inFlight.size > 0 && Date.now() < cutDeadline) await new Promise((r) => setTimeout(r, 10));
    }
    // Every request has published its record: write what the ledger still holds (or spool it).
    await ledger?.close();
    server.closeAllConnections();
    if (admin !== null) {
      admin.close();
      admin.closeAllConnections();
    }
    await runtime.close();
    await Promise.allSettled([...retired].map((r) => r.close()));
    await Promise.allSettled([...simulators.values()].map((s) => s.close()));
    await limits.close();
    await identity.close();
    // After the runtime (its loggers drained): counts of the last requests are in the final export.
    await otlp?.close();
    await sharing?.stop();
    await cacheSharing?.stop();
    // Frees the semantic cache's HNSW graphs, and ends their thread once no gateway of the process has one.
    responseCaches.semantic.clear();
  }

  const retired = new Set<Runtime>();
  return {
    url,
    adminUrl,
    get runtime() {
      return runtime;
    },
    current: () => runtime,
    async reload(next) {
      // The admin listener stays where it is (even if the new configuration disables it): the new
      // configuration's keys must suit that address.
      if (config.admin.enabled) refuseOpenAdmin(next, config.admin.listen);
      const fresh = buildRuntime(await fetchApiSpecs(next), runtimeDeps);
      // On the event loop, like the build itself: once per reload, not per request.
      preloadEncodings(fresh.countedModels);
      const old = runtime;
      runtime = fresh;
      // log.level takes effect at once; a logger given by the embedder keeps the level it was given.
      if (opts.logger === undefined && logger.level !== next.config.log.level) {
        logger.info({ from: logger.level, to: next.config.log.level }, 'log level changed');
        logger.level = next.config.log.level;
      }
      for (const notice of fresh.notices) logger.info({ notice }, 'policy notice');
      // cache.responses follows the reload (bounds, memo, timeouts, partition); where entries are
      // shared stays as started: a new sharing would replay the whole stream into the caches.
      reconfigureResponseCaches(responseCaches, next.config.cache.responses);
      cacheSharing?.setMaxEntries(next.config.cache.responses.maxEntries);
      if (JSON.stringify(sharingTarget(next.config)) !== JSON.stringify(sharingTarget(config))) {
        logger.warn({ configFile: next.file }, 'cache sharing changes (cache.responses.redis, or the state store it uses) take effect at the next start; the running sharing stays as it is');
      }
      if (JSON.stringify([next.config.ledger, next.config.pricing]) !== JSON.stringify([config.ledger, config.pricing])) {
        logger.warn({ configFile: next.file }, 'ledger and pricing changes take effect at the next start (the running ledger and prices stay as they are)');
      }
      logger.info({ configFile: next.file }, 'configuration reloaded');
      // Requests already running keep the old backends' pools; close them once those finish.
      retired.add(old);
      await old.close();
      retired.delete(old);
    },
    usageBus,
    metrics,
    simulators,
    handler,
    responseCaches,
    ledger,
    close(graceMs = config.gateway.shutdownGraceMs) {
      closing ??= shutdown(graceMs);
      return closing;
    },
  };
}

/** How often node:http checks header and request timeouts: a tenth of the shortest, within 50 ms..1 s. */
export function timeoutSweepMs(headersTimeoutMs: number, requestTimeoutMs: number): number {
  const shortest = requestTimeoutMs > 0 ? Math.min(headersTimeoutMs, requestTimeoutMs) : headersTimeoutMs;
  return Math.min(1000, Math.max(50, Math.floor(shortest / 10)));
}

/** @throws ConfigError when the admin listener on `listen` would serve off loopback without admin keys. */
function refuseOpenAdmin(loaded: LoadedConfig, listen: string): void {
  const problem = adminKeyProblem({ ...loaded.config.admin, listen, enabled: true });
  if (problem !== null) throw new ConfigError([{ file: loaded.file ?? '<config>', line: 1, col: 1, path: 'admin.listen', message: problem }]);
}

/** How often each replica reads the circuits other replicas opened. */
const CIRCUIT_POLL_MS = 500;

function shareCircuits(config: LoadedConfig['config'], backends: () => Iterable<Backend>, clock: () => number, logger: Logger): CircuitSharing | null {
  const state = config.state;
  const redis = redisTarget(state);
  if (redis === null) return null;
  // Once when it starts failing, once when it recovers (with the count), not at every poll.
  const outage = new OutageLog({
    component: 'circuit-sharing',
    failingMessage: 'circuit sharing through Redis failing; local breakers still apply',
    recoveredMessage: 'circuit sharing through Redis recovered',
    logger,
  });
  const onError = (message: string): void => outage.failure(message);
  const store = new RedisCircuitStore({ ...redis, keyPrefix: state.keyPrefix, commandTimeoutMs: Math.max(250, state.commandTimeoutMs), onError });
  const sharing = new CircuitSharing({ store, backends, clock, pollMs: CIRCUIT_POLL_MS, onError, onSuccess: () => outage.success() });
  sharing.start();
  return sharing;
}
