/**
 * The per-request metrics, tallied in plain fields and handed to prom-client only when `/metrics`
 * is read. prom-client validates and hashes the label object on every `inc` and `observe`, even
 * through a `labels(...)` child (a string built from every label, per call), which every request
 * paid twice; here a request is one or two Map lookups and a few additions. The text on `/metrics`
 * is the same (metrics.test.ts compares it with prom-client's own).
 * @module
 */
import { Counter, Histogram, type MetricType, type MetricObjectWithValues, type MetricValueWithName, type Registry } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

/** A counter whose label sets count here; prom-client gets the sums at scrape time. */
export class TalliedCounter {
  readonly #children = new Map<string, { readonly labels: Labels; value: number }>();

  constructor(name: string, help: string, labelNames: readonly string[], registry: Registry) {
    const children = this.#children;
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const child of children.values()) if (child.value > 0) this.inc(child.labels, child.value);
      },
    });
  }

  get size(): number {
    return this.#children.size;
  }

  has(key: string): boolean {
    return this.#children.has(key);
  }

  /** The label set named `key` (made from `labels()` the first time), to add to directly. */
  child(key: string, labels: () => Labels): { value: number } {
    let child = this.#children.get(key);
    if (child === undefined) {
      child = { labels: labels(), value: 0 };
      this.#children.set(key, child);
    }
    return child;
  }
}

type ExportValue = MetricValueWithName<string> & { sharedLabels: Labels; exemplar: null | undefined };

/** What the registry reads from a histogram to write its lines. */
interface Export {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly values: ExportValue[];
  readonly aggregator: 'sum';
}

export interface Series {
  readonly labels: Labels;
  /** Observations per bucket (not cumulative), in the order of the upper bounds. */
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

/**
 * A histogram by label set whose observations are tallied here. It is a prom-client Histogram (so
 * the registry takes it) whose export reads these tallies; its own `observe` is not used.
 */
export class TalliedHistogram<T extends string> extends Histogram<T> {
  readonly #name: string;
  readonly #help: string;
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, Series>();

  constructor(opts: { name: string; help: string; labelNames: readonly T[]; buckets: readonly number[]; registry: Registry }) {
    super({ name: opts.name, help: opts.help, labelNames: opts.labelNames, buckets: [...opts.buckets], registers: [opts.registry] });
    this.#name = opts.name;
    this.#help = opts.help;
    this.#bounds = [...opts.buckets].sort((a, b) => a - b);
  }

  /** The label set named `key` (made from `labels()` the first time), to observe into. */
  series(key: string, labels: () => Labels): Series {
    let s = this.#series.get(key);
    if (s === undefined) {
      s = { labels: labels(), buckets: new Float64Array(this.#bounds.length), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    return s;
  }

  /** One observation: the first bucket whose upper bound is at least `value` (none past the last: +Inf only). */
  observeIn(s: Series, value: number): void {
    const bounds = this.#bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        (s.buckets[i] as number)++;
        break;
      }
    }
    s.sum += value;
    s.count += 1;
  }

  /** prom-client's export shape (Histogram#getForPromString), read from the tallies. */
  getForPromString(): Promise<Export> {
    const name = this.#name;
    const bucketName = `${name}_bucket`;
    const values: ExportValue[] = [];
    for (const s of this.#series.values()) {
      let acc = 0;
      this.#bounds.forEach((le, i) => {
        acc += s.buckets[i] as number;
        values.push({ labels: { le }, sharedLabels: s.labels, value: acc, metricName: bucketName, exemplar: null });
      });
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucketName, exemplar: null },
        { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${name}_sum`, exemplar: undefined },
        { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${name}_count`, exemplar: undefined },
      );
    }
    return Promise.resolve({ name, help: this.#help, type: 'histogram' as unknown as MetricType, values, aggregator: 'sum' });
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<T>>> {
    const data = await this.getForPromString();
    const values = data.values.map((v) => {
      const { sharedLabels, labels, ...rest } = v;
      return { ...rest, labels: { ...labels, ...sharedLabels } };
    });
    return { ...data, values, collect: () => undefined } as unknown as MetricObjectWithValues<MetricValueWithName<T>>;
  }

  override reset(): void {
    // prom-client's constructor resets before this class's fields exist.
    if (#series in this) this.#series.clear();
  }
}
