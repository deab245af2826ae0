/**
 * Access tokens the gateway fetches for itself (managed identity, OAuth2 client credentials),
 * cached per key and refreshed ahead of expiry so requests never wait on the token endpoint in
 * steady state:
 * - fresh (before `refreshAt`): served from memory;
 * - due for refresh but still usable: served from memory while ONE background fetch runs;
 * - missing or too close to expiry: requests wait, and concurrent ones share that one fetch.
 * A failed fetch is remembered for a short back-off so a dead identity endpoint is not hammered
 * by every request (each of those requests fails at once with the remembered error).
 * @module
 */

export interface FetchedToken {
  readonly token: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
  /** What else the token endpoint said (scope, token_type, ...), credentials left out. */
  readonly claims?: Readonly<Record<string, unknown>> | undefined;
}

export interface TokenCounts {
  /** Token endpoint calls started. */
  fetches: number;
  /** Of those, the ones that failed. */
  failures: number;
  /** Requests answered from memory. */
  hits: number;
}

/** Kinds counted separately at most; keys are few and their first word is the kind the gateway chose. */
const MAX_KINDS = 16;

export interface TokenCacheOptions {
  /** Wall clock, ms since the epoch (tests move it). */
  readonly clock: () => number;
  readonly maxEntries?: number;
  /** How long a failed fetch is answered from memory before the endpoint is asked again. */
  readonly failureBackoffMs?: number;
  /** Called when a background refresh fails (the old token is still served). Never gets the token. */
  readonly onRefreshError?: (key: string, err: unknown) => void;
}

interface Entry {
  token: FetchedToken | null;
  /** When a background refresh starts. */
  refreshAt: number;
  /** After this the token is not handed out any more (a margin before `expiresAt`). */
  usableUntil: number;
  pending: Promise<FetchedToken> | null;
  failure: { readonly err: Error; readonly until: number } | null;
}

// Refresh when half the remaining lifetime is gone (a token of an hour after 30 minutes, one of
// 4 s after 2 s): early enough that a failing endpoint leaves time to retry while the current
// token still works. `@azure/identity` keeps its own cache and may hand back the same token until
// 5 minutes before expiry; the next refresh is then again at half the (shorter) remaining time.
// A token is no longer handed out 30 s (or a tenth of its lifetime) before it expires, so a
// request in flight does not reach the backend with an expired token.
const MAX_EXPIRY_MARGIN_MS = 30_000;

export class TokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #clock: () => number;
  readonly #maxEntries: number;
  readonly #backoffMs: number;
  readonly #onRefreshError: ((key: string, err: unknown) => void) | undefined;
  /** Token endpoint calls made (for tests, metrics and the benchmark). */
  fetches = 0;
  failures = 0;
  /** Requests answered from memory without waiting on a fetch. */
  hits = 0;
  /** The same counts by kind (a key's first word: managed-identity, oauth2, authorization), for /metrics. */
  readonly #byKind = new Map<string, TokenCounts>();

  constructor(opts: TokenCacheOptions) {
    this.#clock = opts.clock;
    this.#maxEntries = opts.maxEntries ?? 1000;
    this.#backoffMs = opts.failureBackoffMs ?? 2000;
    this.#onRefreshError = opts.onRefreshError;
  }

  /** The token for `key`, fetching it with `fetch` when there is none usable. */
  get(key: string, fetch: () => Promise<FetchedToken>): Promise<string> {
    return this.getFetched(key, fetch).then((t) => t.token);
  }

  /** As {@link get}, with what the endpoint said besides the token. */
  getFetched(key: string, fetch: () => Promise<FetchedToken>): Promise<FetchedToken> {
    const now = this.#clock();
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      if (this.#entries.size >= this.#maxEntries) {
        // Oldest first: keys are few (resource × client id) and this only guards against a
        // document that computes an unbounded number of them.
        const oldest = this.#entries.keys().next().value;
        if (oldest !== undefined) this.#entries.delete(oldest);
      }
      entry = { token: null, refreshAt: 0, usableUntil: 0, pending: null, failure: null };
      this.#entries.set(key, entry);
    }
    const token = entry.token;
    if (token !== null && now < entry.usableUntil) {
      if (now >= entry.refreshAt && entry.pending === null && !this.#backingOff(entry, now)) {
        this.#start(entry, fetch, key).catch((err: unknown) => this.#onRefreshError?.(key, err));
      }
      this.hits++;
      this.#count(key).hits++;
      return Promise.resolve(token);
    }
    if (entry.pending !== null) return entry.pending;
    if (entry.failure !== null && this.#backingOff(entry, now)) return Promise.reject(entry.failure.err);
    return this.#start(entry, fetch, key);
  }

  /** Drops every cached token (e.g. after the backend refused one). */
  clear(): void {
    this.#entries.clear();
  }

  #backingOff(entry: Entry, now: number): boolean {
    return entry.failure !== null && now < entry.failure.until;
  }

  /** Counts by kind, for /metrics. */
  counts(): ReadonlyMap<string, Readonly<TokenCounts>> {
    return this.#byKind;
  }

  #count(key: string): TokenCounts {
    const space = key.indexOf(' ');
    let kind = space < 0 ? key : key.slice(0, space);
    if (!this.#byKind.has(kind) && this.#byKind.size >= MAX_KINDS) kind = 'other';
    let c = this.#byKind.get(kind);
    if (c === undefined) {
      c = { fetches: 0, failures: 0, hits: 0 };
      this.#byKind.set(kind, c);
    }
    return c;
  }

  #start(entry: Entry, fetch: () => Promise<FetchedToken>, key: string): Promise<FetchedToken> {
    const counts = this.#count(key);
    this.fetches++;
    counts.fetches++;
    const pending = fetch().then(
      (t) => {
        const now = this.#clock();
        const life = Math.max(0, t.expiresAt - now);
        entry.token = t;
        entry.refreshAt = now + life / 2;
        entry.usableUntil = t.expiresAt - Math.min(MAX_EXPIRY_MARGIN_MS, life / 10);
        entry.failure = null;
        entry.pending = null;
        return t;
      },
      (err: unknown) => {
        this.failures++;
        counts.failures++;
        entry.failure = { err: err instanceof Error ? err : new Error(String(err)), until: this.#clock() + this.#backoffMs };
        entry.pending = null;
        throw err;
      },
    );
    entry.pending = pending;
    return pending;
  }
}
