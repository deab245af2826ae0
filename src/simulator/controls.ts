/**
 * @module
 * Per-request control headers, so a single simulator can play a healthy backend, a slow one and a
 * broken one within one test. Grammar (header values are case-insensitive, surrounding spaces
 * ignored):
 *
 * - `x-sim-fail: <status>`: answer that status (400-599) with an OpenAI-format error body
 *   (429 gets `Retry-After` from `x-sim-retry-after: <seconds>`, default 1; other statuses get
 *   it only when `x-sim-retry-after` is present).
 * - `x-sim-fail: hang`: never send headers; hold the socket until the client closes it.
 * - `x-sim-fail: reset`: destroy the socket without a response.
 * - `x-sim-fail: cut-after:<N>`: stream: send N content chunks, then destroy the socket (no
 *   finish chunk, no `[DONE]`); JSON: send headers and the first N bytes of the body (always fewer
 *   than the whole body), then destroy.
 * - `x-sim-fail: stall-after:<N>`: like `cut-after`, but the socket stays open and silent.
 * - `x-sim-latency-ms: <N>`: delay before the response headers (overrides `latencyMs`).
 * - `x-sim-completion-tokens: <N>`: reply length in tokens (0-100000), capped by the request's
 *   `max_completion_tokens`/`max_tokens`.
 * - `x-sim-tokens-per-second: <N>`: stream pacing (overrides `tokensPerSecond`; 0 = unpaced).
 *
 * An unparseable value is a 400, so a typo in a test fails loudly instead of passing silently.
 * A standing fault (`setFault`, `PUT /_sim/fault`, see `standing-fault.ts`) takes the same
 * `x-sim-fail` grammar; a request's own `x-sim-fail` replaces it for that request.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { invalidParam } from './errors.ts';

export const SIM_HEADERS = {
  fail: 'x-sim-fail',
  retryAfter: 'x-sim-retry-after',
  latencyMs: 'x-sim-latency-ms',
  completionTokens: 'x-sim-completion-tokens',
  tokensPerSecond: 'x-sim-tokens-per-second',
} as const;

export const MAX_COMPLETION_TOKENS = 100_000;
export const MAX_LATENCY_MS = 600_000;
export const MAX_RETRY_AFTER_S = 86_400;
const MAX_TOKENS_PER_SECOND = 1_000_000;
const MAX_CHUNK_COUNT = 1_000_000_000;

export type Fault =
  | { kind: 'none' }
  | { kind: 'status'; status: number; retryAfterSeconds: number | undefined }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'cut-after'; count: number }
  | { kind: 'stall-after'; count: number };

export interface RequestControls {
  fault: Fault;
  latencyMs: number | undefined;
  completionTokens: number | undefined;
  tokensPerSecond: number | undefined;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const raw = headers[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value === undefined ? undefined : value.trim().toLowerCase();
}

function parseBoundedInt(header: string, raw: string | undefined, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value > max) {
    throw invalidParam(header, `Header ${header} must be an integer from 0 to ${max}, got '${raw}'`);
  }
  return value;
}

/** What `x-sim-fail` (and a standing fault) accepts, for error messages. */
export const FAIL_SPEC_GRAMMAR = 'a status 400-599, hang, reset, cut-after:N or stall-after:N';

/**
 * Parses one `x-sim-fail` value (case-insensitive, spaces around it ignored); `undefined` when it
 * is not in the grammar, so each caller can report the mistake in its own terms (a 400 for a
 * header, a TypeError for `setFault`). 429 gets `retryAfterSeconds` ?? 1; other statuses keep
 * `retryAfterSeconds` as given.
 */
export function parseFailSpec(spec: string, retryAfterSeconds: number | undefined): Fault | undefined {
  const raw = spec.trim().toLowerCase();
  if (raw === 'hang') return { kind: 'hang' };
  if (raw === 'reset') return { kind: 'reset' };
  if (/^\d{3}$/.test(raw)) {
    const status = Number(raw);
    if (status >= 400 && status <= 599) {
      return { kind: 'status', status, retryAfterSeconds: retryAfterSeconds ?? (status === 429 ? 1 : undefined) };
    }
  }
  const partial = /^(cut-after|stall-after):(\d+)$/.exec(raw);
  if (partial === null) return undefined;
  const count = Number(partial[2]);
  if (!Number.isSafeInteger(count) || count > MAX_CHUNK_COUNT) return undefined;
  return partial[1] === 'cut-after' ? { kind: 'cut-after', count } : { kind: 'stall-after', count };
}

function parseFault(headers: IncomingHttpHeaders): Fault {
  const raw = headerValue(headers, SIM_HEADERS.fail);
  const retryAfter = parseBoundedInt(
    SIM_HEADERS.retryAfter,
    headerValue(headers, SIM_HEADERS.retryAfter),
    MAX_RETRY_AFTER_S,
  );
  if (raw === undefined || raw === '') return { kind: 'none' };
  const fault = parseFailSpec(raw, retryAfter);
  if (fault !== undefined) return fault;
  throw invalidParam(SIM_HEADERS.fail, `Header ${SIM_HEADERS.fail} must be ${FAIL_SPEC_GRAMMAR}, got '${raw}'`);
}

/** Reads the `x-sim-*` headers; throws a 400 `SimulatorHttpError` on a malformed value. */
export function readControls(headers: IncomingHttpHeaders): RequestControls {
  return {
    fault: parseFault(headers),
    latencyMs: parseBoundedInt(SIM_HEADERS.latencyMs, headerValue(headers, SIM_HEADERS.latencyMs), MAX_LATENCY_MS),
    completionTokens: parseBoundedInt(
      SIM_HEADERS.completionTokens,
      headerValue(headers, SIM_HEADERS.completionTokens),
      MAX_COMPLETION_TOKENS,
    ),
    tokensPerSecond: parseBoundedInt(
      SIM_HEADERS.tokensPerSecond,
      headerValue(headers, SIM_HEADERS.tokensPerSecond),
      MAX_TOKENS_PER_SECOND,
    ),
  };
}
