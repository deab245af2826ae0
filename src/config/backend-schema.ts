/**
 * The `backends` part of the configuration schema: a backend's URL, credentials (static headers,
 * OAuth2 client credentials, managed identity), timeouts, retries and circuit breaker, and the
 * members of a pool. Split from schema.ts to keep each file to one resource; README.md's "Config
 * reference" documents every field.
 * @module
 */
import { z } from 'zod';
import { isoDuration } from './iso-duration.ts';

/** Milliseconds, 1 ms to 24 h. */
export const positiveMs = z.number().int().positive().max(24 * 3600 * 1000);

export const credentialsSchema = z.strictObject({
  /** Headers added to every upstream request, e.g. `{ api-key: "{{aoai-key}}" }`. */
  header: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'invalid header name'), z.string()).optional(),
  /** Sent as `Authorization: Bearer <token>`. */
  bearer: z.string().min(1).optional(),
  /** `Authorization: Bearer` with a managed-identity token for `resource` (user-assigned with `clientId`); docs/identity.md. */
  managedIdentity: z.strictObject({ resource: z.string().min(1), clientId: z.string().min(1).optional() }).optional(),
  /** `Authorization: Bearer` with a token from an OAuth2 client credentials grant; the secret through a named value. */
  oauth2: z
    .strictObject({
      tokenUrl: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
      clientId: z.string().min(1),
      clientSecret: z.string().min(1),
      scope: z.string().min(1).optional(),
    })
    .optional(),
}).refine((c) => [c.bearer, c.managedIdentity, c.oauth2].filter((x) => x !== undefined).length <= 1, {
  message: 'give at most one of bearer, managedIdentity and oauth2 (each sets the Authorization header)',
});

export const timeoutsSchema = z.strictObject({
  connectMs: positiveMs.default(5000),
  responseHeadersMs: positiveMs.default(120_000),
  idleStreamMs: positiveMs.default(60_000),
});

/** Transport failures a circuit breaker can count (APIM's `errorReasons`, which it leaves open). */
export const ERROR_REASONS = ['connection', 'timeout', 'stream'] as const;
export type ErrorReason = (typeof ERROR_REASONS)[number];

// APIM's samples write "Server errors" and "timeout"; the names Tollgate documents are the three
// above. Matching is case-insensitive.
const ERROR_REASON_ALIASES: Readonly<Record<string, readonly ErrorReason[]>> = {
  connection: ['connection'],
  backendconnectionfailure: ['connection'],
  timeout: ['timeout'],
  stream: ['stream'],
  'server errors': ['connection', 'timeout', 'stream'],
};

const errorReason = z.string().transform((text, ctx) => {
  const reasons = ERROR_REASON_ALIASES[text.trim().toLowerCase()];
  if (reasons === undefined) {
    ctx.addIssue({ code: 'custom', message: `unknown error reason "${text}" (known: connection, timeout, stream, "Server errors" for all three)` });
    return z.NEVER;
  }
  return reasons;
});

const statusCodeRange = z
  .strictObject({ min: z.number().int().min(100).max(599), max: z.number().int().min(100).max(599) })
  .refine((r) => r.min <= r.max, { message: 'min must not be greater than max' });

export const circuitBreakerRuleSchema = z.strictObject({
  name: z.string().min(1).optional(),
  failureCondition: z
    .strictObject({
      /** Failures within `interval` that trip the circuit. */
      count: z.number().int().positive().max(1_000_000).optional(),
      /** Failure percentage within `interval` that trips it (needs `count` requests, or 10, first). */
      percentage: z.number().int().min(1).max(100).optional(),
      interval: isoDuration(1000, 86_400_000),
      /** Response statuses that count as failures. */
      statusCodeRanges: z.array(statusCodeRange).max(20).default([]),
      /** Transport failures that count; omitted means all of them. */
      errorReasons: z
        .array(errorReason)
        .max(10)
        .transform((lists) => [...new Set(lists.flat())])
        .optional(),
    })
    .refine((c) => c.count !== undefined || c.percentage !== undefined, { message: 'needs count or percentage (or both)' }),
  tripDuration: isoDuration(1000, 86_400_000),
  /** Stay open for the failing response's Retry-After instead of tripDuration (capped at one day). */
  acceptRetryAfter: z.boolean().default(false),
});

/** A pool member: a backend id (or an ARM-style id ending in `/backends/<name>`). */
export const poolMemberSchema = z.strictObject({
  id: z
    .string()
    .min(1)
    .transform((id) => id.slice(id.lastIndexOf('/') + 1)),
  /** Lower number = served first (APIM). */
  priority: z.number().int().min(0).max(100).default(1),
  /** Share of traffic among members of equal priority; 0 drains the member. */
  weight: z.number().int().min(0).max(100).default(1),
});

export const backendSchema = z
  .strictObject({
    /** `Single` (default): one URL. `Pool`: members chosen by priority and weight. */
    type: z.enum(['Single', 'Pool']).default('Single'),
    url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
    /** Accepted for Bicep compatibility; only http(s) URLs exist here. */
    protocol: z.literal('http').optional(),
    description: z.string().optional(),
    credentials: credentialsSchema.optional(),
    timeouts: timeoutsSchema.default({ connectMs: 5000, responseHeadersMs: 120_000, idleStreamMs: 60_000 }),
    /** Upper bound on pooled keep-alive connections to this backend. */
    maxConnections: z.number().int().positive().max(10_000).default(256),
    /** Requests that may wait for a free connection; more get 503 at once (not a breaker failure). */
    maxPendingRequests: z.number().int().min(0).max(1_000_000).default(1024),
    circuitBreaker: z.strictObject({ rules: z.array(circuitBreakerRuleSchema).min(1).max(5) }).optional(),
    /**
     * Skip this backend (as if tripped, but only while another member is available) when its
     * `x-ratelimit-remaining-tokens` / `-requests` headers fall below these numbers.
     */
    rateLimitHeaders: z
      .strictObject({
        minRemainingTokens: z.number().int().min(0).optional(),
        minRemainingRequests: z.number().int().min(0).optional(),
        /** How long to skip it when the backend sends no `x-ratelimit-reset-*` header. */
        skipMs: positiveMs.max(600_000).default(1000),
      })
      .optional(),
    pool: z.strictObject({ services: z.array(poolMemberSchema).min(1).max(30) }).optional(),
  })
  .superRefine((b, ctx) => {
    if (b.type === 'Pool') {
      if (b.url !== undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'Url is not supported for backend pool' });
      if (b.pool === undefined) ctx.addIssue({ code: 'custom', path: ['pool'], message: 'a backend of type Pool needs pool.services' });
      for (const field of ['credentials', 'circuitBreaker', 'rateLimitHeaders'] as const) {
        if (b[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `${field} belongs on the member backends, not on the pool` });
      }
    } else {
      if (b.url === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'a backend needs a url (or type: Pool with pool.services)' });
      if (b.pool !== undefined) ctx.addIssue({ code: 'custom', path: ['pool'], message: 'pool is only for backends of type Pool' });
    }
  });
