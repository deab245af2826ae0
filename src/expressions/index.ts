/**
 * APIM policy expressions: a sandboxed interpreter for the C# subset policies use (`@(...)` and
 * `@{ ... }`), over the gateway's RequestContext. Compile once at load (errors carry the exact
 * document position), evaluate per request within a step budget; nothing from the expression can
 * reach JS globals, and every failure inside evaluation is an `ExpressionRuntimeError`.
 *
 * @example
 * const expr = compileExpression('@(context.Subscription.Id)', { file: 'policy.xml', line: 3, col: 18 });
 * const key = toCSharpString(expr.evaluate(ctx));
 * @module
 */
import type { RequestContext } from '../core/context.ts';
import { type Compiled, compile } from './engine.ts';
import { ExpressionRuntimeError } from './errors.ts';
import { JToken, fromJson, toJson } from './json.ts';
import { parseInteger } from './numbers.ts';
import { unwrap } from './operators.ts';
import { CsDouble, csString, csTypeName } from './values.ts';

export { ExpressionCompileError, ExpressionRuntimeError, type ExprPos } from './errors.ts';
export { DEFAULT_ALLOC_BUDGET, DEFAULT_STEP_BUDGET, MAX_ITEMS, MAX_STRING } from './limits.ts';

export interface EvaluateOptions {
  /** AST node evaluations allowed (default 100 000). */
  stepBudget?: number;
  /** Estimated bytes of strings, collections and JSON the evaluation may produce (default 128 MiB). */
  allocBudget?: number;
  /** Clock for DateTime.UtcNow/Now, in (fractional) Unix ms; tests inject a fixed one. */
  now?: () => number;
  /** Source for `new Random()`, uniform in [0, 1). */
  random?: () => number;
}

export interface CompiledExpression {
  readonly source: string;
  evaluate(ctx: RequestContext, opts?: EvaluateOptions): unknown;
}

/** True when the trimmed value is a policy expression (`@(` or `@{`). */
export function isExpression(raw: string): boolean {
  const t = raw.trimStart();
  return t.startsWith('@(') || t.startsWith('@{');
}

/** Compiles `@(...)` / `@{...}`; `pos` is where its `@` sits in the document. Throws ExpressionCompileError. */
export function compileExpression(raw: string, pos: import('./errors.ts').ExprPos): CompiledExpression {
  const c: Compiled = compile(raw, pos);
  return c;
}

function fail(message: string, exception = 'System.InvalidCastException'): ExpressionRuntimeError {
  return new ExpressionRuntimeError(message, { exception, pos: null });
}

/** C#'s ToString() of an expression result: null → "", true → "True", a JObject → its indented JSON. */
export function toCSharpString(value: unknown): string {
  try {
    return csString(value);
  } catch (err) {
    throw new ExpressionRuntimeError(`Expression evaluation failed. ${(err as Error).message}`, { exception: 'System.Exception', pos: null, cause: err });
  }
}

/** A `condition` result: must be a C# bool. */
export function toBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  throw fail(`Expression evaluation failed. The expression returned ${csTypeName(value)}, but a Boolean is required.`);
}

/** A numeric attribute's result: an int, an integral double, or a string holding an int. */
export function toInt(value: unknown): number {
  const v = unwrap(value);
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (v instanceof CsDouble && Number.isInteger(v.v)) return v.v;
  if (typeof v === 'string') {
    try {
      return parseInteger(v, 64);
    } catch {
      throw fail(`Expression evaluation failed. '${v}' is not an integer.`, 'System.FormatException');
    }
  }
  throw fail(`Expression evaluation failed. The expression returned ${csTypeName(value)}, but an integer is required.`);
}

/** Wraps a plain JSON value (e.g. a parsed request body) as a JToken expressions can use. */
export function toJToken(json: unknown): unknown {
  try {
    return fromJson(json);
  } catch (err) {
    throw fail(`Cannot convert to a JToken: ${(err as Error).message}`);
  }
}

/** A JToken (or a C# primitive) back to a plain JSON value. */
export function fromJToken(token: unknown): unknown {
  if (token instanceof JToken) return toJson(token);
  const v = unwrap(token);
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v instanceof CsDouble) return v.v;
  throw fail(`Cannot convert ${csTypeName(token)} to JSON.`);
}
