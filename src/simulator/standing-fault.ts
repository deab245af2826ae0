/**
 * @module
 * A standing fault: one failure the simulator keeps answering until it is cleared. Pool and
 * circuit-breaker tests need one member of a pool to fail while its siblings stay healthy, and
 * `x-sim-*` headers cannot do that: the gateway forwards the same request to whichever member it
 * picks, so the fault has to belong to the simulator, not to the request. It is switched at run
 * time (`setFault`, `PUT /_sim/fault`) so a test can watch a backend fail and then recover.
 */
import { FAIL_SPEC_GRAMMAR, MAX_LATENCY_MS, MAX_RETRY_AFTER_S, parseFailSpec } from './controls.ts';
import type { Fault, RequestControls } from './controls.ts';
import { createPrng } from './random.ts';

export interface StandingFaultOptions {
  /** `Retry-After` for a status fault; 429 defaults to 1, other statuses send it only when set. */
  retryAfterSeconds?: number | undefined;
  /** Delay before a faulted answer, in ms; a request's `x-sim-latency-ms` still wins. */
  latencyMs?: number | undefined;
  /**
   * Fraction (0-1) of requests that get the fault; default 1. Draws come from a PRNG seeded with
   * the simulator's `seed` and restarted by every `setFault`, so the k-th request after a given
   * `setFault` is faulted or not the same way on every run.
   */
  rate?: number | undefined;
}

/** A standing fault as configured (`SimulatorOptions.fault`, the config file's `fault:`). */
export interface StandingFaultConfig extends StandingFaultOptions {
  /** The fault in the `x-sim-fail` grammar, e.g. `429`, `reset`, `cut-after:3`. */
  fail: string;
}

/** What `GET /_sim/fault` answers; every field is `null` when no fault stands. */
export interface StandingFaultView {
  /** The spec, normalised (trimmed, lower case). */
  fail: string | null;
  /** The `Retry-After` the fault answers with (so 1 for a bare 429); `null` when it sends none. */
  retryAfterSeconds: number | null;
  latencyMs: number | null;
  rate: number | null;
}

/** A bad standing-fault value; `param` names the field, `code` is stable for callers. */
export class SimulatorFaultError extends TypeError {
  readonly code = 'TG_SIM_INVALID_FAULT';
  readonly param: string;
  readonly expected: string;
  readonly value: unknown;
  constructor(param: string, expected: string, value: unknown) {
    super(`Simulator fault '${param}' must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`);
    this.name = 'SimulatorFaultError';
    this.param = param;
    this.expected = expected;
    this.value = value;
  }
}

export interface StandingFault {
  spec: string;
  fault: Fault;
  latencyMs: number | undefined;
  rate: number;
}

/** Option values as they arrive from JSON: `null` means unset, so a GET answer can be PUT back. */
export interface StandingFaultInput {
  retryAfterSeconds?: unknown;
  latencyMs?: unknown;
  rate?: unknown;
}

function optionalInt(param: string, value: unknown, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new SimulatorFaultError(param, `an integer from 0 to ${max}`, value);
  }
  return value;
}

/**
 * Validates a standing fault; `null` (clear) gives `undefined`. Throws `SimulatorFaultError`
 * (a TypeError) naming the first bad field.
 *
 * @example
 * parseStandingFault('429', { retryAfterSeconds: 2 });
 * // { spec: '429', fault: { kind: 'status', status: 429, retryAfterSeconds: 2 }, latencyMs: undefined, rate: 1 }
 */
export function parseStandingFault(spec: unknown, opts: StandingFaultInput = {}): StandingFault | undefined {
  if (spec === null) return undefined;
  const expected = `${FAIL_SPEC_GRAMMAR} (x-sim-fail grammar), or null to clear`;
  if (typeof spec !== 'string') throw new SimulatorFaultError('fail', expected, spec);
  const retryAfterSeconds = optionalInt('retryAfterSeconds', opts.retryAfterSeconds, MAX_RETRY_AFTER_S);
  const fault = parseFailSpec(spec, retryAfterSeconds);
  if (fault === undefined) throw new SimulatorFaultError('fail', expected, spec);
  const latencyMs = optionalInt('latencyMs', opts.latencyMs, MAX_LATENCY_MS);
  const rate = opts.rate ?? 1;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new SimulatorFaultError('rate', 'a number from 0 to 1', opts.rate);
  }
  return { spec: spec.trim().toLowerCase(), fault, latencyMs, rate };
}

export interface AppliedControls {
  controls: RequestControls;
  /** True when the standing fault decides this answer (counted in `stats.faulted`). */
  standing: boolean;
}

export interface FaultSwitch {
  set(standing: StandingFault | undefined): void;
  view(): StandingFaultView;
  /**
   * The controls a request runs with: its own when its `x-sim-fail` names a fault, else the
   * standing fault's when the rate draw hits, else its own unchanged.
   */
  apply(controls: RequestControls): AppliedControls;
}

// Keeps the rate draws apart from `failRate`'s, which are seeded from the same `seed`.
const RATE_STREAM = 0x0fa17ed;

/** Holds the standing fault of one simulator; `seed` is the simulator's. */
export function createFaultSwitch(seed: number, initial: StandingFault | undefined): FaultSwitch {
  let current = initial;
  let draw = createPrng(seed ^ RATE_STREAM);
  return {
    set(standing) {
      current = standing;
      draw = createPrng(seed ^ RATE_STREAM);
    },
    view() {
      if (current === undefined) return { fail: null, retryAfterSeconds: null, latencyMs: null, rate: null };
      const { fault } = current;
      return {
        fail: current.spec,
        retryAfterSeconds: fault.kind === 'status' ? (fault.retryAfterSeconds ?? null) : null,
        latencyMs: current.latencyMs ?? null,
        rate: current.rate,
      };
    },
    apply(controls) {
      if (current === undefined || controls.fault.kind !== 'none') return { controls, standing: false };
      if (current.rate < 1 && !(draw() < current.rate)) return { controls, standing: false };
      return {
        controls: { ...controls, fault: current.fault, latencyMs: controls.latencyMs ?? current.latencyMs },
        standing: true,
      };
    },
  };
}
