/**
 * Sandbox limits. Every AST node evaluation costs one step; library calls charge steps for the
 * work they do (the characters and elements they read and produce, comparisons for sorts), so
 * neither a loop nor one big library call can run unbounded. Every string, collection and byte
 * array an evaluation produces is checked against the size caps and counted against its
 * allocation budget (estimated bytes), which bounds the memory one evaluation can hold.
 * Evaluation is synchronous and never re-entrant, so the meter of the evaluation in progress can
 * live in a module variable that host code charges without threading it through every call.
 * @module
 */
import { LimitError } from './errors.ts';

export const DEFAULT_STEP_BUDGET = 100_000;
/** Longest string an expression may build (16 MiB of UTF-16 code units). */
export const MAX_STRING = 16 * 1024 * 1024;
/** Most elements a collection built by an expression may hold. */
export const MAX_ITEMS = 1_000_000;
/**
 * Estimated bytes one evaluation may produce in total (strings, collections, JSON nodes), whether
 * it keeps them or not: what it can hold live at any moment is at most this.
 */
export const DEFAULT_ALLOC_BUDGET = 128 * 1024 * 1024;

/** Estimated bytes per produced unit (UTF-16 strings, element slots, JSON nodes, map entries). */
export const BYTES_PER_CHAR = 2;
export const BYTES_PER_ITEM = 8;
export const BYTES_PER_NODE = 64;
export const BYTES_PER_ENTRY = 48;

/** Step counter, allocation counter, and the injected clock and random source of one evaluation. */
export interface Meter {
  left: number;
  /** Estimated bytes the evaluation may still produce. */
  allocLeft: number;
  /** Current time in (fractional) Unix milliseconds. */
  readonly now: () => number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
  /** Wall-clock milliseconds of regex matching still allowed (REGEX_TIME_BUDGET_MS when unset). */
  regexMsLeft?: number;
}

/**
 * Milliseconds of regex matching one evaluation may spend. Each search is linear and charged
 * steps before it runs; this bounds the searches a Matches/Replace/Split loop repeats (see regex.ts).
 */
export const REGEX_TIME_BUDGET_MS = 100;

export const systemNow = (): number => performance.timeOrigin + performance.now();

/** Outside an evaluation (e.g. the gateway calling `toCSharpString`) nothing is charged. */
const FREE: Meter = { left: Infinity, allocLeft: Infinity, now: systemNow, random: Math.random, regexMsLeft: Infinity };
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

export function allocationExceeded(): never {
  throw new LimitError('AllocationBudgetExceeded', 'The expression produced more data than one evaluation may (strings, collections or JSON).');
}

/** Spends `ms` of the evaluation's regex time; false once it is used up. */
export function spendRegexTime(ms: number): boolean {
  const left = (current.regexMsLeft ?? REGEX_TIME_BUDGET_MS) - ms;
  current.regexMsLeft = left;
  return left >= 0;
}

/** Charges `n` steps to the current evaluation. */
export function charge(n: number): void {
  if ((current.left -= n) < 0) budgetExceeded();
}

/**
 * One JSON node costs an eighth of a step: less than it takes (a node is a few allocations), so
 * that a large request body (800,000 nodes) stays affordable to parse, copy and print; the
 * allocation budget (BYTES_PER_NODE each) stops a loop of parses.
 */
export const NODE_COST = 1 / 8;

/** Units of work (characters read or written; an element is ITEM_UNITS) per step. */
export const UNITS_PER_STEP = 256;
/** An element visited or stored costs as much as this many characters. */
export const ITEM_UNITS = 64;

/** Charges for work proportional to `units` elements or characters (1 step per 256). */
export function chargeWork(units: number): void {
  charge(1 + units / UNITS_PER_STEP);
}

/** Counts `bytes` (estimated) against the evaluation's allocation budget. */
export function allocate(bytes: number): void {
  if ((current.allocLeft -= bytes) < 0) allocationExceeded();
}

/** A string of `len` characters is about to be produced: cap, write cost and memory, before building it. */
export function produceChars(len: number): void {
  checkStringLength(len);
  if (len > 64) {
    charge(len / UNITS_PER_STEP);
    allocate(len * BYTES_PER_CHAR);
  }
}

/**
 * A concatenation of `len` characters: capped and counted as memory, but not charged steps, since
 * V8 joins strings lazily (O(1)); whatever reads the result later pays for reading it.
 */
export function joinedChars(len: number): void {
  checkStringLength(len);
  if (len > 64) allocate(len * BYTES_PER_CHAR);
}

/** `n` new element slots (an array, a list's growth): cap, cost and memory. */
export function produceItems(n: number): void {
  checkCount(n);
  if (n > 4) {
    charge((n * ITEM_UNITS) / UNITS_PER_STEP);
    allocate(n * BYTES_PER_ITEM);
  }
}

/** A byte array of `n` bytes: capped like a string (a byte[] is one buffer, not a collection of objects). */
export function produceBytes(n: number): void {
  checkBytes(n);
  if (n > 64) {
    charge(n / UNITS_PER_STEP);
    allocate(n);
  }
}

/** `n` JSON nodes created (parse, clone, FromObject): NODE_COST steps and BYTES_PER_NODE each. */
export function produceNodes(n: number): void {
  charge(n * NODE_COST);
  allocate(n * BYTES_PER_NODE);
}

export function checkStringLength(len: number): void {
  if (len > MAX_STRING) throw new LimitError('StringTooLong', `The expression built a string longer than ${MAX_STRING} characters.`);
}

export function checkString(s: string): string {
  checkStringLength(s.length);
  return s;
}

export function checkBytes(n: number): void {
  if (n > MAX_STRING) throw new LimitError('CollectionTooLarge', `The expression built a byte array longer than ${MAX_STRING} bytes.`);
}

export function checkCount(n: number): void {
  if (n > MAX_ITEMS) throw new LimitError('CollectionTooLarge', `The expression built a collection of more than ${MAX_ITEMS} elements.`);
}

/** Characters per piece of a chunked transform: small enough that one piece is a short stall. */
const CHUNK = 1 << 16;

/**
 * Applies a per-character transform that may grow its input (escaping, upper-casing) piece by
 * piece, refusing as soon as the output passes MAX_STRING: an amplifying call fails after
 * building at most the cap, never its whole oversized result. Pieces never split a surrogate pair.
 */
export function mapChunks(s: string, f: (piece: string) => string, stepsPerGrowth = 0): string {
  if (s.length <= CHUNK) {
    const r = checkString(f(s));
    if (stepsPerGrowth > 0 && r.length > s.length) charge((r.length - s.length) * stepsPerGrowth);
    return r;
  }
  const out: string[] = [];
  let len = 0;
  for (let i = 0; i < s.length; ) {
    let end = Math.min(i + CHUNK, s.length);
    const last = s.charCodeAt(end - 1);
    if (end < s.length && last >= 0xd800 && last <= 0xdbff) end++;
    const piece = f(s.slice(i, end));
    len += piece.length;
    checkStringLength(len);
    // Each replacement (an escape) costs beyond the scan; it shows as growth of the piece.
    if (stepsPerGrowth > 0 && piece.length > end - i) charge((piece.length - (end - i)) * stepsPerGrowth);
    out.push(piece);
    i = end;
  }
  return out.join('');
}
