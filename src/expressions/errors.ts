/**
 * Errors of the policy-expression engine. Two are public (`ExpressionCompileError` at load,
 * `ExpressionRuntimeError` per request); the rest are internal and never leave `evaluate`:
 * `CsError` models a C# exception (an expression's `try/catch` can catch it), `LimitError` a
 * sandbox limit (budget, sizes) that expressions must not be able to swallow.
 * @module
 */

/** Position of a character in a policy document (1-based). */
export interface ExprPos {
  file: string;
  line: number;
  col: number;
}

/** The message is the bare description; `pos` says where (callers format `file:line:col: message`). */
export class ExpressionCompileError extends Error {
  readonly code = 'GW_ERR_POLICY_EXPRESSION_COMPILE';
  readonly pos: ExprPos;
  /** Same as `message`. */
  readonly detail: string;

  constructor(detail: string, pos: ExprPos) {
    super(detail);
    this.name = 'ExpressionCompileError';
    this.pos = pos;
    this.detail = detail;
  }
}

export class ExpressionRuntimeError extends Error {
  readonly code = 'GW_ERR_POLICY_EXPRESSION';
  /** APIM's `context.LastError.Reason` for expression failures. */
  readonly reason: string;
  /** The C# exception type the failure corresponds to, e.g. `System.NullReferenceException`. */
  readonly exception: string;
  /** Where in the document the failing sub-expression starts, when known. */
  readonly pos: ExprPos | null;

  constructor(message: string, opts: { exception: string; pos: ExprPos | null; reason?: string; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ExpressionRuntimeError';
    this.reason = opts.reason ?? 'ExpressionValueEvaluationFailure';
    this.exception = opts.exception;
    this.pos = opts.pos;
  }
}

/** A C# exception thrown by evaluation. `offset` is filled in by the innermost node that knows its position. */
export class CsError extends Error {
  readonly csType: string;
  offset = -1;

  constructor(csType: string, message: string) {
    super(message);
    this.name = 'CsError';
    this.csType = csType;
  }
}

/** A sandbox limit: not catchable by the expression's own try/catch. */
export class LimitError extends Error {
  readonly kind: string;
  offset = -1;

  constructor(kind: string, message: string) {
    super(message);
    this.name = 'LimitError';
    this.kind = kind;
  }
}

/** A compile-time problem at an offset of the raw expression text; index.ts turns it into a position. */
export class SyntaxFault extends Error {
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.name = 'SyntaxFault';
    this.offset = offset;
  }
}

export const nullRef = (): CsError =>
  new CsError('System.NullReferenceException', 'Object reference not set to an instance of an object.');
export const invalidCast = (from: string, to: string): CsError =>
  new CsError('System.InvalidCastException', `Unable to cast object of type '${from}' to type '${to}'.`);
export const keyNotFound = (key: string): CsError =>
  new CsError('System.Collections.Generic.KeyNotFoundException', `The given key '${key}' was not present in the dictionary.`);
export const formatError = (message: string): CsError => new CsError('System.FormatException', message);
export const invalidOp = (message: string): CsError => new CsError('System.InvalidOperationException', message);
export const argError = (message: string): CsError => new CsError('System.ArgumentException', message);
export const argNull = (param: string): CsError =>
  new CsError('System.ArgumentNullException', `Value cannot be null. (Parameter '${param}')`);
export const outOfRange = (param = 'index'): CsError =>
  new CsError(
    'System.ArgumentOutOfRangeException',
    `Index was out of range. Must be non-negative and less than the size of the collection. (Parameter '${param}')`,
  );
export const indexOutOfRange = (): CsError =>
  new CsError('System.IndexOutOfRangeException', 'Index was outside the bounds of the array.');
export const overflow = (to: string): CsError =>
  new CsError('System.OverflowException', `Value was either too large or too small for ${to}.`);
export const unsupported = (message: string): CsError => new CsError('System.NotSupportedException', message);
/** What C#'s dynamic binder says for a member that does not exist. */
export const noMember = (typeName: string, name: string): CsError =>
  new CsError('Microsoft.CSharp.RuntimeBinder.RuntimeBinderException', `'${typeName}' does not contain a definition for '${name}'`);
