/**
 * APIM's `Authorization` type in policy expressions: what `get-authorization-context` stores in its
 * `context-variable-name`, read as `((Authorization)context.Variables["auth"]).AccessToken` and
 * `.Claims` (the token endpoint's other response fields: `scope`, `token_type`, `expires_in`, ...;
 * never the refresh token).
 * @module
 */
import { argAt, out, str } from './args.ts';
import { keyNotFound } from './errors.ts';
import { fromJson } from './json.ts';
import { defineType } from './registry.ts';
import { CsDouble, Host, KeyValue } from './values.ts';

export class AuthorizationValue extends Host {
  readonly accessToken: string;
  readonly claims: ReadonlyMap<string, unknown>;
  constructor(accessToken: string, claims: Readonly<Record<string, unknown>>) {
    super();
    this.accessToken = accessToken;
    this.claims = new Map(Object.entries(claims));
  }
  get kind(): string {
    return 'Authorization';
  }
  override get typeName(): string {
    return 'Microsoft.Azure.ApiManagement.Policies.Authorization';
  }
}

/** A claim as a C# value: strings, ints, doubles and bools as themselves, anything else as a JToken. */
function claimValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? v : new CsDouble(v);
  return fromJson(v);
}

/** `IReadOnlyDictionary<string, object>` over the claims. */
class AuthorizationClaims extends Host {
  readonly claims: ReadonlyMap<string, unknown>;
  constructor(claims: ReadonlyMap<string, unknown>) {
    super();
    this.claims = claims;
  }
  get kind(): string {
    return 'AuthorizationClaims';
  }
  override get typeName(): string {
    return 'System.Collections.Generic.IReadOnlyDictionary`2';
  }
  override enumerate(): readonly unknown[] {
    return [...this.claims].map(([k, v]) => new KeyValue(k, claimValue(v)));
  }
}

defineType<AuthorizationValue>('Authorization', 'Microsoft.Azure.ApiManagement.Policies.Authorization', {
  props: {
    AccessToken: (a) => a.accessToken,
    Claims: (a) => new AuthorizationClaims(a.claims),
  },
});

defineType<AuthorizationClaims>('AuthorizationClaims', 'System.Collections.Generic.IReadOnlyDictionary`2', {
  props: { Count: (c) => c.claims.size, Keys: (c) => [...c.claims.keys()] },
  index: (c, k) => {
    const name = String(k[0]);
    if (!c.claims.has(name)) throw keyNotFound(name);
    return claimValue(c.claims.get(name));
  },
  methods: {
    GetValueOrDefault: [1, 2, (c, a) => {
      const name = str(a, 0, 'key');
      return c.claims.has(name) ? claimValue(c.claims.get(name)) : (argAt(a, 1) ?? null);
    }],
    ContainsKey: [1, 1, (c, a) => c.claims.has(str(a, 0, 'key'))],
    TryGetValue: [2, 2, (c, a) => {
      const name = str(a, 0, 'key');
      out(a, 1).set(c.claims.has(name) ? claimValue(c.claims.get(name)) : null);
      return c.claims.has(name);
    }],
  },
});
