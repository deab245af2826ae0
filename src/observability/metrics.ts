/**
 * Prometheus metrics on the admin listener (`/metrics`). One registry per gateway instance so
 * tests and embedded use never collide on prom-client's global registry.
 * @module
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { TalliedCounter, TalliedHistogram, type Series } from './tallies.ts';

const MAX_TOKEN_LABEL_SETS = 2000;

export class Metrics {
  readonly registry = new Registry();
  readonly requests: TalliedCounter;
  readonly duration: TalliedHistogram<'api' | 'operation'>;
  readonly tokens: TalliedCounter;
  readonly stateEvents: Counter<'type'>;
  #roundTrips: () => number = () => 0;
  readonly circuitTransitions: Counter<'backend' | 'state'>;
  readonly cacheLookups: Counter<'kind' | 'result'>;
  readonly cacheEmbeddingTokens: Counter;
  #circuits: () => ReadonlyArray<readonly [backend: string, open: boolean]> = () => [];
  #identityTokens: () => ReadonlyMap<string, Readonly<{ fetches: number; failures: number; hits: number }>> = () => new Map();

  /** Label sets kept per custom metric (telemetry.maxSeriesPerMetric). */
  readonly #maxSeries: number;
  #onOverflow: (metric: string, cap: number) => void = () => undefined;
  #mirror: CustomMirror | null = null;
  readonly loggerMessages: Counter<'logger' | 'result'>;

  constructor(opts: { defaultMetrics?: boolean; maxSeriesPerMetric?: number } = {}) {
    this.#maxSeries = opts.maxSeriesPerMetric ?? DEFAULT_MAX_SERIES;
    this.loggerMessages = new Counter({
      name: 'tollgate_logger_messages_total',
      help: 'log-to-eventhub messages by logger and result: written, or dropped (queue full, retries exhausted, drain deadline).',
      labelNames: ['logger', 'result'],
      registers: [this.registry],
    });
    this.requests = new TalliedCounter(
      'tollgate_requests_total',
      'Requests answered by the gateway, by API, operation and HTTP status (499: client closed first).',
      ['api', 'operation', 'status'],
      this.registry,
    );
    this.duration = new TalliedHistogram({
      name: 'tollgate_request_duration_seconds',
      help: 'Time from request arrival to the last byte sent, by API and operation.',
      labelNames: ['api', 'operation'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registry: this.registry,
    });
    this.tokens = new TalliedCounter(
      'tollgate_tokens_total',
      'Tokens metered from backend usage reports (or counted locally when a backend reported none).',
      ['api', 'deployment', 'type'],
      this.registry,
    );
    this.stateEvents = new Counter({
      name: 'tollgate_state_events_total',
      help: 'State store (Redis) events: fallback (fail-open answer), breaker-open, breaker-close, script-reload, error.',
      labelNames: ['type'],
      registers: [this.registry],
    });
    const roundTrips = (): number => this.#roundTrips();
    new Counter({
      name: 'tollgate_state_round_trips_total',
      help: 'Round trips to the shared state store: one per request with limits on its path (reserve), and one after its response (settle).',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(roundTrips());
      },
    });
    this.circuitTransitions = new Counter({
      name: 'tollgate_backend_circuit_transitions_total',
      help: 'Circuit breaker transitions by backend: state="open" when it trips, "closed" when a probe succeeds.',
      labelNames: ['backend', 'state'],
      registers: [this.registry],
    });
    this.cacheLookups = new Counter({
      name: 'tollgate_cache_lookups_total',
      help: 'Cache lookups by kind (semantic, response) and result (hit, miss, error: a failed lookup, served as a miss).',
      labelNames: ['kind', 'result'],
      registers: [this.registry],
    });
    this.cacheEmbeddingTokens = new Counter({
      name: 'tollgate_cache_embedding_tokens_total',
      help: 'Tokens of the semantic cache\'s embeddings calls (one per lookup).',
      registers: [this.registry],
    });
    const circuits = (): ReadonlyArray<readonly [string, boolean]> => this.#circuits();
    new Gauge({
      name: 'tollgate_backend_circuit_open',
      help: '1 while a backend\'s circuit breaker is open or half-open, else 0 (backends with a circuitBreaker only).',
      labelNames: ['backend'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [backend, open] of circuits()) this.set({ backend }, open ? 1 : 0);
      },
    });
    const identityTokens = (): ReadonlyMap<string, Readonly<{ fetches: number; failures: number; hits: number }>> => this.#identityTokens();
    new Counter({
      name: 'tollgate_identity_token_fetches_total',
      help: 'Token endpoint calls the gateway made for itself, by kind (managed-identity, oauth2, authorization) and result (ok, error).',
      labelNames: ['kind', 'result'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [kind, c] of identityTokens()) {
          this.inc({ kind, result: 'ok' }, c.fetches - c.failures);
          this.inc({ kind, result: 'error' }, c.failures);
        }
      },
    });
    new Counter({
      name: 'tollgate_identity_token_cache_hits_total',
      help: 'Token requests answered from the token cache without a fetch, by kind.',
      labelNames: ['kind'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [kind, c] of identityTokens()) this.inc({ kind }, c.hits);
      },
    });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'tollgate_' });
  }

  /** Exposes the state store's round-trip count on /metrics. */
  trackStateStore(count: () => number): void {
    this.#roundTrips = count;
  }

  /** Exposes the token cache's fetches, failures and hits by kind on /metrics (read when scraped). */
  trackIdentityTokens(counts: () => ReadonlyMap<string, Readonly<{ fetches: number; failures: number; hits: number }>>): void {
    this.#identityTokens = counts;
  }

  /** Exposes each backend's breaker state on /metrics (read when scraped). */
  trackCircuits(states: () => ReadonlyArray<readonly [backend: string, open: boolean]>): void {
    this.#circuits = states;
  }

  /** Per API and operation: the duration series and the count per status (no string built per request). */
  readonly #requestSeries = new Map<string, Map<string, RequestSeries>>();
  /** Per API and deployment: the token counts by type. */
  readonly #tokenSeries = new Map<string, Map<string, TokenSeries>>();

  /** One finished request: its count by status and its duration (tallies.ts: no label hashing per call). */
  recordRequest(api: string, operation: string, status: number, seconds: number): void {
    let byOperation = this.#requestSeries.get(api);
    if (byOperation === undefined) this.#requestSeries.set(api, (byOperation = new Map<string, RequestSeries>()));
    let series = byOperation.get(operation);
    if (series === undefined) {
      series = { duration: this.duration.series(`${api}\u0000${operation}`, () => ({ api, operation })), statuses: new Map() };
      byOperation.set(operation, series);
    }
    let count = series.statuses.get(status);
    if (count === undefined) {
      count = this.requests.child(`${api}\u0000${operation}\u0000${status}`, () => ({ api, operation, status: String(status) }));
      series.statuses.set(status, count);
    }
    count.value += 1;
    this.duration.observeIn(series.duration, seconds);
  }

  /**
   * Tokens by deployment. Without declared deployments the name comes from the client, so the
   * number of label sets is capped: past the cap, new names are counted as `other`.
   */
  recordTokens(api: string, deployment: string, type: 'prompt' | 'completion', tokens: number): void {
    if (tokens <= 0) return;
    let byDeployment = this.#tokenSeries.get(api);
    if (byDeployment === undefined) this.#tokenSeries.set(api, (byDeployment = new Map<string, TokenSeries>()));
    let types = byDeployment.get(deployment);
    let child = types?.[type];
    if (child === undefined) {
      if (deployment !== 'other' && this.tokens.size >= MAX_TOKEN_LABEL_SETS && !this.tokens.has(`${api}\u0000${deployment}\u0000${type}`)) {
        this.recordTokens(api, 'other', type, tokens);
        return;
      }
      if (types === undefined) byDeployment.set(deployment, (types = {}));
      child = types[type] = this.tokens.child(`${api}\u0000${deployment}\u0000${type}`, () => ({ api, deployment, type }));
    }
    child.value += tokens;
  }

  readonly #custom = new Map<string, CustomEntry>();

  /** Called once per custom metric when its label sets reach the cap (the gateway logs a warning). */
  onSeriesOverflow(warn: (metric: string, cap: number) => void): void {
    this.#onOverflow = warn;
  }

  /** Also sends every custom counter's increments elsewhere (the OTLP exporter). */
  mirrorCustom(mirror: CustomMirror | null): void {
    this.#mirror = mirror;
    for (const e of this.#custom.values()) e.mirror = undefined;
  }

  /**
   * A custom counter for `emit-metric` and the token metrics, named
   * `tollgate_custom_<namespace>_<name>`. Registering the same name with other labels is an error.
   * Label sets per metric are capped (telemetry.maxSeriesPerMetric): past the cap, a new label set
   * is counted under one series whose every label is `other`, and the overflow is reported once.
   */
  customCounter(namespace: string, name: string, labelNames: readonly string[]): (labelValues: readonly string[], value: number) => void {
    const metricName = `tollgate_custom_${sanitize(namespace)}_${sanitize(name)}`.replace(/_+/g, '_');
    const labels = labelNames.map(sanitize);
    const key = labels.join(',');
    let entry = this.#custom.get(metricName);
    if (entry === undefined) {
      const help = `Custom metric ${namespace}/${name} (emit-metric or a token metric policy).`;
      // Counts accumulate in the series; prom-client gets them when /metrics is scraped. Its own
      // `inc` hashes and validates the label object on every call, which the request path paid.
      const counter = new Counter({
        name: metricName,
        help,
        labelNames: labels,
        registers: [this.registry],
        collect() {
          this.reset();
          const e = made;
          for (const s of e.series) this.inc(s.labels, s.value);
          if (e.other !== undefined) this.inc(e.other.labels, e.other.value);
        },
      });
      const made: CustomEntry = { labels: key, counter, series: [], other: undefined, index: new Map(), mirror: undefined, otelName: `${namespace}.${name}`, dimensionNames: labelNames, help };
      entry = made;
      this.#custom.set(metricName, entry);
    } else if (entry.labels !== key) {
      throw new Error(`metric ${metricName} is already emitted with dimensions (${entry.labels}); one name needs one set of dimensions`);
    }
    const e = entry;
    return (values, value) => {
      // prom-client's checks, made here so that a bad value fails the policy, not the scrape.
      if (value && !Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
      if (value < 0) throw new Error('It is not possible to decrease a counter');
      let child = findSeries(e.index, values);
      if (child === undefined) {
        if (e.series.length < this.#maxSeries) {
          child = newSeries(labels, e.dimensionNames, values);
          e.series.push(child);
          indexSeries(e.index, values, child);
        } else {
          // Past the cap, new label sets count under one `other` series (so cap + 1 at most) and
          // are not indexed: however many there are, none is kept. Its creation is the overflow.
          if (e.other === undefined) {
            e.other = newSeries(labels, e.dimensionNames, values.map(() => 'other'));
            this.#onOverflow(metricName, this.#maxSeries);
          }
          child = e.other;
        }
      }
      child.value += value;
      if (this.#mirror !== null) {
        e.mirror ??= this.#mirror.counter(e.otelName, e.help);
        e.mirror(child.attrs, value);
      }
    };
  }
}

interface RequestSeries {
  readonly duration: Series;
  readonly statuses: Map<number, { value: number }>;
}

interface TokenSeries {
  prompt?: { value: number };
  completion?: { value: number };
}

/** Where custom counters are mirrored (OTLP): one function per metric, called with the capped attributes. */
export interface CustomMirror {
  counter(name: string, description: string): (attributes: Readonly<Record<string, string>>, value: number) => void;
}

interface CustomSeries {
  value: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly attrs: Readonly<Record<string, string>>;
}

interface CustomEntry {
  readonly labels: string;
  readonly counter: Counter<string>;
  /** Each label set's count so far, its Prometheus labels and its OTel attributes, up to the cap. */
  readonly series: CustomSeries[];
  /** The one series of the label sets past the cap (every label `other`). */
  other: CustomSeries | undefined;
  /** `series` by label values, for the request path. */
  readonly index: SeriesIndex;
  mirror: ((attributes: Readonly<Record<string, string>>, value: number) => void) | undefined;
  readonly otelName: string;
  readonly dimensionNames: readonly string[];
  readonly help: string;
}

/**
 * The series of a custom counter by label values, one map level per label: a request finds its
 * series with one lookup per label by strings that usually come from the configuration (their
 * hash is cached), instead of joining them into a new string to hash on every count.
 */
type SeriesIndex = Map<string, SeriesIndex | CustomSeries>;

function newSeries(labelNames: readonly string[], dimensionNames: readonly string[], values: readonly string[]): CustomSeries {
  const labels: Record<string, string> = {};
  labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
  const attrs: Record<string, string> = {};
  dimensionNames.forEach((n, i) => (attrs[n] = values[i] ?? ''));
  return { value: 0, labels, attrs };
}

function findSeries(index: SeriesIndex, values: readonly string[]): CustomSeries | undefined {
  let node = index;
  const last = values.length - 1;
  for (let i = 0; i < last; i++) {
    const next = node.get(values[i] as string) as SeriesIndex | undefined;
    if (next === undefined) return undefined;
    node = next;
  }
  return node.get(last < 0 ? '' : (values[last] as string)) as CustomSeries | undefined;
}

function indexSeries(index: SeriesIndex, values: readonly string[], series: CustomSeries): void {
  let node = index;
  const last = values.length - 1;
  for (let i = 0; i < last; i++) {
    const v = values[i] as string;
    let next = node.get(v) as SeriesIndex | undefined;
    if (next === undefined) {
      next = new Map();
      node.set(v, next);
    }
    node = next;
  }
  node.set(last < 0 ? '' : (values[last] as string), series);
}

const DEFAULT_MAX_SERIES = 1000;

/** Prometheus names: [a-zA-Z_][a-zA-Z0-9_]*, lower-cased ("API ID" → "api_id"). */
function sanitize(s: string): string {
  const out = s.trim().toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  return /^[a-z_]/.test(out) ? out : `_${out}`;
}
