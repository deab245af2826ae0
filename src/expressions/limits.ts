/**
 * Sandbox limits. Every AST node evaluation costs one step; host operations whose work grows with
 * their input (splitting, joining, cloning JSON, sorting) charge steps in proportion, so neither a
 * loop nor one big library call can run unbounded. Evaluation is synchronous and never re-entrant,
 * so the meter of the evaluation in progress can live in a module variable that host code charges
 * without threading it through every call.
 * @module
 */
import { LimitError } from './errors.ts';

export const DEFAULT_STEP_BUDGET = 100_000;
/** Longest string an expression may build (16 MiB of UTF-16 code units). */
export const MAX_STRING = 16 * 1024 * 1024;
/** Most elements a collection built by an expression may hold. */
export const MAX_ITEMS = 1_000_000;

/** Step counter plus the injected clock and random source of one evaluation. */
export interface Meter {
  left: number;
  /** Current time in (fractional) Unix milliseconds. */
  readonly now: () => number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
}

export const systemNow = (): number => performance.timeOrigin + performance.now();

/** Outside an evaluation (e.g. the gateway calling `toCSharpString`) nothing is charged. */
const FREE: Meter = { left: Infinity, now: systemNow, random: Math.random };
let current: Meter = FREE;

/** Makes `m` the meter host operations charge; returns the previous one for restoring. */
export function enterMeter(m: Meter): Meter {
  const prev = current;
  current = m;
  return prev;
}

export function leaveMeter(prev: Meter): void {
  current = prev;
}

export function now(): number {
  return current.now();
}

export function random(): number {
  return current.random();
}

export function budgetExceeded(): never {
  throw new LimitError('StepBudgetExceeded', 'The expression exceeded its step budget (a loop that does not end, or too much work).');
}

/** Charges `n` steps to the current evaluation. */
export function charge(n: number): void {
  if ((current.left -= n) < 0) budgetExceeded();
}

/** One JSON node costs a sixteenth of a step: a large request body must stay affordable to parse, copy and print. */
export const NODE_COST = 1 / 16;

/** Charges for work proportional to `units` elements or characters (1 step per 256). */
export function chargeWork(units: number): void {
  charge(1 + (units >>> 8));
}

export function checkStringLength(len: number): void {
  if (len > MAX_STRING) throw new LimitError('StringTooLong', `The expression built a string longer than ${MAX_STRING} characters.`);
}

export function checkString(s: string): string {
  checkStringLength(s.length);
  return s;
}

export function checkCount(n: number): void {
  if (n > MAX_ITEMS) throw new LimitError('CollectionTooLarge', `The expression built a collection of more than ${MAX_ITEMS} elements.`);
}
