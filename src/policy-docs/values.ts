/**
 * Attribute and text values of a policy: either constants or policy expressions compiled once at
 * load. Both become one shape, a function of the request context, so policies never care which.
 * An expression failure at run time becomes `GW_ERR_POLICY_EXPRESSION` (on-error runs, as in APIM).
 * @module
 */
import type { RequestContext } from '../core/context.ts';
import { GatewayError } from '../core/errors.ts';
import {
  compileExpression,
  isExpression,
  toBoolean,
  toCSharpString,
  toInt,
  ExpressionCompileError,
} from '../expressions/index.ts';
import { PolicyDocError, type PolicyValue } from './element.ts';
import { namedValuesNote } from './named-values.ts';
import { collecting, report } from './problems.ts';
import { containsSecret } from '../secrets/redactor.ts';

/** A value computed per request (a constant returns the same thing every time). */
export type Dyn<T> = ((ctx: RequestContext) => T) & { readonly constant?: T };

export function constant<T>(value: T): Dyn<T> {
  return Object.assign(() => value, { constant: value });
}

/** Compiles `@(...)` / `@{...}` or wraps a constant; `convert` turns the raw result into T. */
export function dynamic<T>(v: PolicyValue, what: string, parse: (s: string) => T, convert: (raw: unknown) => T): Dyn<T> {
  if (!isExpression(v.value)) {
    try {
      return constant(parse(v.value));
    } catch (err) {
      return reported(new PolicyDocError(`${what}${namedValuesNote(v)}: ${(err as Error).message}`, v.pos));
    }
  }
  let compiled;
  try {
    compiled = compileExpression(v.value.trim(), { file: v.pos.file, line: v.pos.line, col: v.pos.col });
  } catch (err) {
    if (err instanceof ExpressionCompileError) {
      // An expression holding a secret named value may quote any part of it in its syntax error
      // (a secret with a `"` ends its string literal early): say where, not what.
      if (containsSecret(v.value)) return reported(new PolicyDocError(`${what}${namedValuesNote(v)}: the expression does not compile (it contains a secret named value, so the detail is not shown)`, v.pos));
      // Positions inside an expression that named values were substituted into no longer match
      // the file: the error is reported at the value, naming what was substituted.
      if (v.namedValues !== undefined) return reported(new PolicyDocError(`${what}${namedValuesNote(v)}: ${err.message}`, v.pos));
      return reported(new PolicyDocError(`${what}: ${err.message}`, err.pos));
    }
    throw err;
  }
  return ((ctx: RequestContext): T => {
    let raw: unknown;
    try {
      raw = compiled.evaluate(ctx);
      return convert(raw);
    } catch (err) {
      if (GatewayError.is(err)) throw err;
      // The client sees only where it failed; the engine's detail (which may quote request data or
      // named values) stays in the cause, which is logged redacted.
      throw new GatewayError('GW_ERR_POLICY_EXPRESSION', `Expression evaluation failed in ${what}.`, { cause: err });
    }
  });
}

/**
 * Throws `err`, or, while problems are collected, reports it and returns a stand-in value: a policy
 * can then finish compiling and the rest of the document is checked too. The stand-in never runs,
 * because a document with a problem is never used.
 */
function reported<T>(err: PolicyDocError): Dyn<T> {
  if (!collecting()) throw err;
  report(err);
  return (): T => {
    throw new GatewayError('GW_ERR_POLICY_FAILED', 'This policy did not compile.');
  };
}

export const asString = (v: PolicyValue, what: string): Dyn<string> => dynamic(v, what, (s) => s, toCSharpString);

/** Anything an expression returns, kept as it is (set-variable stores JTokens, numbers, ...). */
export const asAny = (v: PolicyValue, what: string): Dyn<unknown> => dynamic<unknown>(v, what, (s) => s, (x) => x);

export function asBool(v: PolicyValue, what: string): Dyn<boolean> {
  return dynamic(v, what, parseBool, toBoolean);
}

export function asInt(v: PolicyValue, what: string, min: number, max: number): Dyn<number> {
  const check = (n: number): number => {
    // The computed value is not quoted: it may be derived from a secret (docs/security.md).
    if (!Number.isInteger(n) || n < min || n > max) throw new GatewayError('GW_ERR_POLICY_FAILED', `${what} did not evaluate to an integer from ${min} to ${max}.`);
    return n;
  };
  return dynamic(
    v,
    what,
    (s) => {
      const n = Number(s.trim());
      if (!/^-?\d+$/.test(s.trim()) || n < min || n > max) throw new Error(`expected an integer from ${min} to ${max}, got "${s}"`);
      return n;
    },
    (raw) => check(toInt(raw)),
  );
}

export function parseBool(s: string): boolean {
  const t = s.trim().toLowerCase();
  if (t === 'true') return true;
  if (t === 'false') return false;
  throw new Error(`expected true or false, got "${s}"`);
}
