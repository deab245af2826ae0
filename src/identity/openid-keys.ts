/**
 * Signing keys of token issuers for `validate-jwt` / `validate-azure-ad-token`: the OpenID
 * configuration (`<openid-config url>`) and the JWKS it names, fetched once and shared by every
 * policy that names the same URL, then:
 * - refreshed in the background after `ttlMs` (requests keep using the keys they have, so an
 *   issuer that is briefly down does not fail requests);
 * - refetched at once when a token names a key id (`kid`) the set does not have (a key rotation),
 *   at most once per `cooldownMs`, so a flood of tokens with made-up `kid`s costs one fetch, not one
 *   each. Concurrent requests share a fetch in flight.
 * Only the configured URL and the `jwks_uri` of its document are fetched (never a URL from a
 * token, such as `jku` or `x5u`); the JWKS must be https or on the configuration's own origin.
 * @module
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { request, type Dispatcher } from 'undici';
import { readCapped } from '../upstream/read-bounded.ts';

export interface OpenIdKeysOptions {
  readonly dispatcher: Dispatcher;
  readonly clock: () => number;
  readonly ttlMs?: number;
  readonly cooldownMs?: number;
  readonly timeoutMs?: number;
  readonly maxIssuers?: number;
  readonly onBackgroundError?: (url: string, err: unknown) => void;
}

export interface IssuerKeys {
  /** `issuer` of the OpenID configuration. */
  issuer(): Promise<string>;
  /** For jose's `jwtVerify`. */
  readonly getKey: JWTVerifyGetKey;
}

const MAX_DOCUMENT_BYTES = 256 * 1024;

type Resolved = Required<Omit<OpenIdKeysOptions, 'onBackgroundError'>> & Pick<OpenIdKeysOptions, 'onBackgroundError'>;

interface Loaded {
  readonly issuer: string;
  readonly keys: JWTVerifyGetKey;
  readonly at: number;
}

class Issuer implements IssuerKeys {
  readonly #url: string;
  readonly #o: Resolved;
  #loaded: Loaded | null = null;
  #pending: Promise<Loaded> | null = null;
  /** When the last fetch started, successful or not: the cooldown counts from here. */
  #lastAttempt = Number.NEGATIVE_INFINITY;
  #lastError: Error | null = null;
  fetches = 0;

  constructor(url: string, o: Resolved) {
    this.#url = url;
    this.#o = o;
  }

  async issuer(): Promise<string> {
    return (await this.#current()).issuer;
  }

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const loaded = await this.#current();
    try {
      return await loaded.keys(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || this.#coolingDown()) throw err;
      const fresh = await this.#reload();
      return fresh.keys(header, token);
    }
  };

  async #current(): Promise<Loaded> {
    const loaded = this.#loaded;
    if (loaded === null) {
      // Never loaded and the last try failed: answer with that failure until the cooldown ends.
      if (this.#pending === null && this.#lastError !== null && this.#coolingDown()) throw this.#lastError;
      return this.#reload();
    }
    if (this.#o.clock() - loaded.at >= this.#o.ttlMs && this.#pending === null && !this.#coolingDown()) {
      this.#reload().catch((err: unknown) => this.#o.onBackgroundError?.(this.#url, err));
    }
    return loaded;
  }

  #coolingDown(): boolean {
    return this.#o.clock() - this.#lastAttempt < this.#o.cooldownMs;
  }

  #reload(): Promise<Loaded> {
    if (this.#pending === null) this.#lastAttempt = this.#o.clock();
    this.#pending ??= this.#fetchBoth().then(
      (l) => {
        this.#loaded = l;
        this.#lastError = null;
        this.#pending = null;
        return l;
      },
      (err: unknown) => {
        this.#pending = null;
        this.#lastError = err instanceof Error ? err : new Error(String(err));
        throw err;
      },
    );
    return this.#pending;
  }

  async #fetchBoth(): Promise<Loaded> {
    this.fetches++;
    const doc = (await this.#getJson(this.#url)) as { issuer?: unknown; jwks_uri?: unknown };
    if (typeof doc.issuer !== 'string' || typeof doc.jwks_uri !== 'string') throw new Error(`OpenID configuration ${this.#url} has no issuer or jwks_uri`);
    const jwksUrl = new URL(doc.jwks_uri);
    if (jwksUrl.protocol !== 'https:' && jwksUrl.origin !== new URL(this.#url).origin) {
      throw new Error(`OpenID configuration ${this.#url} names a jwks_uri that is neither https nor on its own origin`);
    }
    const jwks = (await this.#getJson(jwksUrl.href)) as JSONWebKeySet;
    if (!Array.isArray(jwks.keys)) throw new Error(`JWKS ${jwksUrl.href} has no keys array`);
    return { issuer: doc.issuer, keys: createLocalJWKSet(jwks), at: this.#o.clock() };
  }

  async #getJson(url: string): Promise<unknown> {
    const t = this.#o.timeoutMs;
    const res = await request(url, { dispatcher: this.#o.dispatcher, headers: { accept: 'application/json' }, signal: AbortSignal.timeout(t), headersTimeout: t, bodyTimeout: t });
    const raw = await readCapped(res.body, MAX_DOCUMENT_BYTES);
    if (raw === undefined) throw new Error(`${url} answered more than ${MAX_DOCUMENT_BYTES} bytes`);
    if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}`);
    try {
      return JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      throw new Error(`${url} did not answer JSON`);
    }
  }
}

/** Issuers by OpenID configuration URL, shared across policies and configuration reloads. */
export class OpenIdKeys {
  readonly #issuers = new Map<string, Issuer>();
  readonly #opts: Resolved;
  readonly #max: number;

  constructor(o: OpenIdKeysOptions) {
    this.#opts = {
      dispatcher: o.dispatcher,
      clock: o.clock,
      ttlMs: o.ttlMs ?? 3_600_000,
      cooldownMs: o.cooldownMs ?? 30_000,
      timeoutMs: o.timeoutMs ?? 5_000,
      maxIssuers: o.maxIssuers ?? 100,
      onBackgroundError: o.onBackgroundError,
    };
    this.#max = this.#opts.maxIssuers;
  }

  for(url: string): IssuerKeys {
    let issuer = this.#issuers.get(url);
    if (issuer === undefined) {
      // URLs come from policy documents (a handful); the bound only matters across many reloads.
      if (this.#issuers.size >= this.#max) {
        const oldest = this.#issuers.keys().next().value;
        if (oldest !== undefined) this.#issuers.delete(oldest);
      }
      issuer = new Issuer(url, this.#opts);
      this.#issuers.set(url, issuer);
    }
    return issuer;
  }

  /** OpenID configuration + JWKS fetches so far (tests, benchmark). */
  get fetches(): number {
    let n = 0;
    for (const i of this.#issuers.values()) n += i.fetches;
    return n;
  }
}
