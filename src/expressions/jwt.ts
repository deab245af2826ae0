/**
 * APIM's `Jwt` type in policy expressions: what `"...".AsJwt()`, `TryParseJwt(out var jwt)` and
 * the `output-token-variable-name` of `validate-jwt` / `validate-azure-ad-token` give, with
 * `Algorithm`, `Audiences`, `Claims` (`GetValueOrDefault(name, default)` joins a claim's values
 * with commas, as APIM does), `ExpirationTime`, `Id`, `Issuer`, `IssuedAt`, `NotBefore`,
 * `Subject` and `Type`. Parsing only decodes: it does not verify the signature (as in APIM; use
 * validate-jwt for that). `context.User` is the user of APIM's developer portal, which Tollgate
 * does not have: it stays null.
 * @module
 */
import { argAt, str } from './args.ts';
import { CsDateTime } from './datetime.ts';
import { chargeWork } from './limits.ts';
import { defineType } from './registry.ts';
import { Host, KeyValue, OutRef } from './values.ts';

/** The largest token `AsJwt()` decodes; a real one is a few KB. */
const MAX_JWT_CHARS = 64 * 1024;

type Claims = ReadonlyMap<string, readonly string[]>;

export class Jwt extends Host {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly claims: Claims;
  constructor(header: Readonly<Record<string, unknown>>, payload: Readonly<Record<string, unknown>>) {
    super();
    this.header = header;
    this.payload = payload;
    const claims = new Map<string, readonly string[]>();
    for (const [k, v] of Object.entries(payload)) claims.set(k, claimValues(v));
    this.claims = claims;
  }
  get kind(): string {
    return 'Jwt';
  }
  override get typeName(): string {
    return 'Microsoft.Azure.ApiManagement.Policies.Jwt';
  }
}

/** A claim's values as strings: arrays give one value each, objects their JSON. */
function claimValues(v: unknown): readonly string[] {
  const one = (x: unknown): string => (typeof x === 'string' ? x : JSON.stringify(x) ?? '');
  return Array.isArray(v) ? v.map(one) : [one(v)];
}

function decodePart(part: string): Record<string, unknown> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) return null;
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Decodes a compact JWT (`Bearer ` prefix allowed); null when it is not one. */
export function parseJwt(text: string): Jwt | null {
  chargeWork(text.length);
  let s = text.trim();
  if (/^bearer\s/i.test(s)) s = s.slice(7).trim();
  if (s.length > MAX_JWT_CHARS) return null;
  const parts = s.split('.');
  // JWS has 3 parts; an encrypted JWE (5 parts) carries no readable claims.
  if (parts.length !== 3) return null;
  const header = decodePart(parts[0] as string);
  const payload = decodePart(parts[1] as string);
  return header === null || payload === null ? null : new Jwt(header, payload);
}

const date = (v: unknown): CsDateTime | null => (typeof v === 'number' && Number.isFinite(v) ? CsDateTime.fromMs(v * 1000, 'Utc') : null);
const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The claims dictionary (`IReadOnlyDictionary<string, string[]>`). */
class JwtClaims extends Host {
  readonly claims: Claims;
  constructor(claims: Claims) {
    super();
    this.claims = claims;
  }
  get kind(): string {
    return 'JwtClaims';
  }
  override get typeName(): string {
    return 'System.Collections.Generic.IReadOnlyDictionary`2';
  }
  override enumerate(): readonly unknown[] {
    return [...this.claims].map(([k, v]) => new KeyValue(k, [...v]));
  }
}

defineType<Jwt>('Jwt', 'Microsoft.Azure.ApiManagement.Policies.Jwt', {
  props: {
    Algorithm: (j) => text(j.header['alg']),
    Type: (j) => text(j.header['typ']),
    Audiences: (j) => (j.claims.get('aud') === undefined ? [] : [...(j.claims.get('aud') as readonly string[])]),
    Claims: (j) => new JwtClaims(j.claims),
    ExpirationTime: (j) => date(j.payload['exp']),
    IssuedAt: (j) => date(j.payload['iat']),
    NotBefore: (j) => date(j.payload['nbf']),
    Id: (j) => text(j.payload['jti']),
    Issuer: (j) => text(j.payload['iss']),
    Subject: (j) => text(j.payload['sub']),
  },
});

defineType<JwtClaims>('JwtClaims', 'System.Collections.Generic.IReadOnlyDictionary`2', {
  props: { Count: (c) => c.claims.size, Keys: (c) => [...c.claims.keys()] },
  index: (c, k) => {
    const v = c.claims.get(String(k[0]));
    return v === undefined ? null : [...v];
  },
  methods: {
    GetValueOrDefault: [1, 2, (c, a) => c.claims.get(str(a, 0, 'claimName'))?.join(',') ?? argAt(a, 1) ?? null],
    ContainsKey: [1, 1, (c, a) => c.claims.has(str(a, 0, 'key'))],
  },
});

/** `string.AsJwt()`: the decoded token, or null when the string is not a JWT. */
export function asJwt(s: string): Jwt | null {
  return parseJwt(s);
}

/** `string.TryParseJwt(out Jwt result)`. */
export function tryParseJwt(s: string, a: unknown[]): boolean {
  const target = a[0];
  const jwt = parseJwt(s);
  if (target instanceof OutRef) target.set(jwt);
  return jwt !== null;
}
