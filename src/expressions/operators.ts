/**
 * C# operators over the value representation of values.ts: integer vs double arithmetic, string
 * concatenation through C#'s ToString, lifted (nullable) comparisons, and value equality where C#
 * has it (strings, numbers, DateTime...). A JValue compared or combined with a primitive uses its
 * value, as Newtonsoft's implicit conversions would make the C# code read.
 * @module
 */
import { CsDateTime, CsGuid, CsTimeSpan } from './datetime.ts';
import { CsError, unsupported } from './errors.ts';
import { JValue, jvalueToCs } from './json.ts';
import { chargeWork, joinedChars } from './limits.ts';
import { CsChar, CsDouble, CsEnum, csString, csTypeName, dbl, flagsValue } from './values.ts';

/** A JValue's C# value; anything else unchanged. */
export function unwrap(v: unknown): unknown {
  return v instanceof JValue ? jvalueToCs(v) : v;
}

/** The numeric value of an int, double or char, or null. */
function numOf(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (v instanceof CsDouble) return v.v;
  if (v instanceof CsChar) return v.code;
  return null;
}

export function csEquals(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') {
    // Comparing two distinct long strings of equal length is a full scan.
    if (a.length > 256 && a.length === b.length && a !== b) chargeWork(a.length);
    return a === b;
  }
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  const x = unwrap(a);
  const y = unwrap(b);
  if (x === y) return true;
  if (x === null || y === null) return false;
  const nx = numOf(x);
  if (nx !== null) {
    const ny = numOf(y);
    return ny !== null && nx === ny;
  }
  if (x instanceof CsDateTime && y instanceof CsDateTime) return x.compare(y) === 0;
  if (x instanceof CsTimeSpan && y instanceof CsTimeSpan) return x.ticks === y.ticks;
  if (x instanceof CsGuid && y instanceof CsGuid) return x.toCs() === y.toCs();
  if (x instanceof CsEnum && y instanceof CsEnum) return x.type === y.type && x.value === y.value;
  return false;
}

/** `<`, `>`, `<=`, `>=`: null when an operand is null (the lifted operator then yields false). */
export function csCompare(a: unknown, b: unknown): number | null {
  const x = unwrap(a);
  const y = unwrap(b);
  if (x === null || y === null || x === undefined || y === undefined) return null;
  const nx = numOf(x);
  const ny = numOf(y);
  if (nx !== null && ny !== null) return nx < ny ? -1 : nx > ny ? 1 : nx === ny ? 0 : NaN;
  if (x instanceof CsDateTime && y instanceof CsDateTime) return Math.sign(x.compare(y));
  if (x instanceof CsTimeSpan && y instanceof CsTimeSpan) return Math.sign(x.ticks - y.ticks);
  throw badOperands('<', a, b);
}

function badOperands(op: string, a: unknown, b: unknown): CsError {
  return new CsError(
    'Microsoft.CSharp.RuntimeBinder.RuntimeBinderException',
    `Operator '${op}' cannot be applied to operands of type '${csTypeName(a)}' and '${csTypeName(b)}'`,
  );
}

export function concat(a: unknown, b: unknown): string {
  const x = csString(a);
  const y = csString(b);
  // Counted at its full length: V8 joins lazily, but reading the result copies it.
  joinedChars(x.length + y.length);
  return x + y;
}

export function divideByZero(): CsError {
  return new CsError('System.DivideByZeroException', 'Attempted to divide by zero.');
}

type Arith = '+' | '-' | '*' | '/' | '%';

/** Binary arithmetic. Strings concatenate; int op int stays integral (division truncates). */
export function arith(op: Arith, a: unknown, b: unknown): unknown {
  if (op === '+' && (typeof a === 'string' || typeof b === 'string')) return concat(a, b);
  if (typeof a === 'number' && typeof b === 'number') return intOp(op, a, b);
  const x = unwrap(a);
  const y = unwrap(b);
  // Lifted operators: arithmetic with a null operand is null.
  if (x === null || y === null || x === undefined || y === undefined) return null;
  if (op === '+' && (typeof x === 'string' || typeof y === 'string')) return concat(x, y);
  const nx = numOf(x);
  const ny = numOf(y);
  if (nx !== null && ny !== null) {
    if (x instanceof CsDouble || y instanceof CsDouble) return dbl(floatOp(op, nx, ny));
    return intOp(op, nx, ny);
  }
  if (x instanceof CsDateTime && y instanceof CsTimeSpan && (op === '+' || op === '-')) return x.addTicks(op === '+' ? y.ticks : -y.ticks);
  if (x instanceof CsDateTime && y instanceof CsDateTime && op === '-') return new CsTimeSpan((x.ms - y.ms) * 10_000 + (x.sub - y.sub));
  if (x instanceof CsTimeSpan && y instanceof CsTimeSpan && (op === '+' || op === '-')) return new CsTimeSpan(op === '+' ? x.ticks + y.ticks : x.ticks - y.ticks);
  throw badOperands(op, a, b);
}

function intOp(op: Arith, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      if (b === 0) throw divideByZero();
      return Math.trunc(a / b) + 0;
    case '%':
      if (b === 0) throw divideByZero();
      return (a % b) + 0;
  }
}

function floatOp(op: Arith, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    case '%':
      return a % b;
  }
}

/** `&`, `|`, `^` on ints or bools (bools do not short-circuit); `<<`, `>>` on ints. */
export function bitwise(op: '&' | '|' | '^' | '<<' | '>>', a: unknown, b: unknown): unknown {
  const x = unwrap(a);
  const y = unwrap(b);
  if (typeof x === 'boolean' && typeof y === 'boolean' && op !== '<<' && op !== '>>') {
    return op === '&' ? x && y : op === '|' ? x || y : x !== y;
  }
  if (x instanceof CsEnum && y instanceof CsEnum && x.type === y.type && (op === '&' || op === '|' || op === '^')) {
    return flagsValue(x.type, op === '&' ? x.value & y.value : op === '|' ? x.value | y.value : x.value ^ y.value);
  }
  const nx = x instanceof CsChar ? x.code : x;
  const ny = y instanceof CsChar ? y.code : y;
  if (typeof nx === 'number' && typeof ny === 'number') {
    const big = Math.abs(nx) > 2147483647 || Math.abs(ny) > 2147483647;
    if (big) {
      const r = op === '&' ? BigInt(nx) & BigInt(ny) : op === '|' ? BigInt(nx) | BigInt(ny) : op === '^' ? BigInt(nx) ^ BigInt(ny) : op === '<<' ? BigInt(nx) << BigInt(ny & 63) : BigInt(nx) >> BigInt(ny & 63);
      return Number(BigInt.asIntN(64, r));
    }
    switch (op) {
      case '&':
        return nx & ny;
      case '|':
        return nx | ny;
      case '^':
        return nx ^ ny;
      case '<<':
        return nx << (ny & 31);
      case '>>':
        return nx >> (ny & 31);
    }
  }
  if (x === null || y === null) return null;
  throw badOperands(op, a, b);
}

export function negate(v: unknown): unknown {
  const x = unwrap(v);
  if (typeof x === 'number') return -x + 0;
  if (x instanceof CsDouble) return dbl(-x.v);
  if (x instanceof CsChar) return -x.code;
  if (x instanceof CsTimeSpan) return new CsTimeSpan(-x.ticks);
  if (x === null) return null;
  throw unsupported(`Operator '-' cannot be applied to operand of type '${csTypeName(v)}'`);
}

export function plus(v: unknown): unknown {
  const x = unwrap(v);
  if (typeof x === 'number' || x instanceof CsDouble || x === null) return x;
  if (x instanceof CsChar) return x.code;
  throw unsupported(`Operator '+' cannot be applied to operand of type '${csTypeName(v)}'`);
}

export function not(v: unknown): boolean | null {
  const x = unwrap(v);
  if (typeof x === 'boolean') return !x;
  if (x === null) return null;
  throw unsupported(`Operator '!' cannot be applied to operand of type '${csTypeName(v)}'`);
}

export function complement(v: unknown): unknown {
  const x = unwrap(v);
  if (typeof x === 'number') return Math.abs(x) > 2147483647 ? Number(~BigInt(x)) : ~x;
  if (x === null) return null;
  throw unsupported(`Operator '~' cannot be applied to operand of type '${csTypeName(v)}'`);
}

/** A condition (`if`, `while`, `?:`, `&&`, `!`) must be a bool; a null `bool?` is an error in C# too. */
export function truth(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  const x = unwrap(v);
  if (typeof x === 'boolean') return x;
  if (x === null || x === undefined) throw new CsError('System.InvalidOperationException', 'Nullable object must have a value.');
  throw new CsError('System.InvalidCastException', `Cannot implicitly convert type '${csTypeName(v)}' to 'bool'`);
}
