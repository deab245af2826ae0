/**
 * The one place every library call is settled: whatever a member does inside, its inputs and its
 * result are measured here, so the budget covers members nobody remembered to meter. A call
 * costs a step per 256 units it reads or produces (a character is a unit, an element
 * ITEM_UNITS), its result must fit the size caps, and a produced string, collection or byte array
 * counts against the evaluation's allocation budget. Members add their own charges only for work
 * beyond reading their inputs and writing their result (scanning `this`, sorting, comparing
 * elements, growing a builder or list in place) and check caps before building an output whose
 * size they can predict, so an oversized result is refused before it exists.
 * @module
 */
import { JArray, JObject } from './json.ts';
import {
  BYTES_PER_CHAR,
  BYTES_PER_ENTRY,
  BYTES_PER_ITEM,
  ITEM_UNITS,
  UNITS_PER_STEP,
  allocate,
  charge,
  checkCount,
  checkStringLength,
  checkBytes,
} from './limits.ts';
import { CsDict, CsList } from './values.ts';

/** Work units of reading a value: its characters, or its elements (shallow). */
export function unitsOf(v: unknown): number {
  if (typeof v === 'string') return v.length;
  if (typeof v !== 'object' || v === null) return 0;
  if (Array.isArray(v)) return v.length * ITEM_UNITS;
  if (v instanceof Uint8Array) return v.length;
  if (v instanceof CsList) return v.items.length * ITEM_UNITS;
  if (v instanceof CsDict) return v.map.size * ITEM_UNITS;
  if (v instanceof JArray) return v.items.length * ITEM_UNITS;
  if (v instanceof JObject) return v.props.size * ITEM_UNITS;
  return 0;
}

/**
 * Caps a produced value and counts its memory; returns its work units. JSON tokens are counted
 * where their nodes are made (json.ts), so they are not counted again here.
 */
function produced(v: unknown): number {
  if (typeof v === 'string') {
    checkStringLength(v.length);
    allocate(v.length * BYTES_PER_CHAR);
    return v.length;
  }
  if (typeof v !== 'object' || v === null) return 0;
  if (Array.isArray(v)) {
    checkCount(v.length);
    allocate(v.length * BYTES_PER_ITEM);
    return v.length * ITEM_UNITS;
  }
  if (v instanceof Uint8Array) {
    checkBytes(v.length);
    allocate(v.length);
    return v.length;
  }
  if (v instanceof CsList) {
    checkCount(v.items.length);
    allocate(v.items.length * BYTES_PER_ITEM);
    return v.items.length * ITEM_UNITS;
  }
  if (v instanceof CsDict) {
    checkCount(v.map.size);
    allocate(v.map.size * BYTES_PER_ENTRY);
    return v.map.size * ITEM_UNITS;
  }
  return 0;
}

/** Before a method, static method or constructor runs: charges for reading its arguments. */
export function chargeArgs(args: readonly unknown[]): void {
  let units = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    // Strings first: the common argument, and the cheapest to measure.
    units += typeof a === 'string' ? a.length : typeof a === 'object' && a !== null ? unitsOf(a) : 0;
  }
  if (units >= UNITS_PER_STEP) charge(units / UNITS_PER_STEP);
}

/** Results this small cost nothing to settle: under a step, and within the step budget's own bound on memory. */
const SMALL = 64;

/**
 * After it ran: charges for producing `result` and counts it (unless it is `self` or an argument,
 * which nothing new was made for).
 */
export function settle(result: unknown, args: readonly unknown[], self?: unknown): unknown {
  if (typeof result === 'string') {
    if (result.length <= SMALL || result === self || args.includes(result)) return result;
  } else if (typeof result !== 'object' || result === null || result === self || args.includes(result)) return result;
  const units = produced(result);
  if (units >= UNITS_PER_STEP) charge(units / UNITS_PER_STEP);
  return result;
}

/** Settles a property read: nothing is read but `self`, whose lookup is O(1); a fresh result is counted. */
export function settleProperty(result: unknown, self: unknown): unknown {
  if (result === self || result === null || typeof result !== 'object' || !(Array.isArray(result) || result instanceof CsList || result instanceof CsDict)) return result;
  const units = produced(result);
  if (units >= UNITS_PER_STEP) charge(units / UNITS_PER_STEP);
  return result;
}

/** An indexer reads its keys (hashed, compared, case-folded); the element it returns is not new. */
export const chargeKeys = chargeArgs;
