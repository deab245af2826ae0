/**
 * The pipeline behind the public API: raw text → tokens → AST → closures, and the evaluation
 * boundary that turns every internal failure into an `ExpressionRuntimeError` with a position.
 * @module
 */
import type { RequestContext } from '../core/context.ts';
import type { Expr, Stmt } from './ast.ts';
import { contextStringReader } from './context-model.ts';
import { Compiler } from './compile.ts';
import { compileBlock } from './compile-statements.ts';
import { checkContextMembers } from './context-types.ts';
import { CsError, type ExprPos, ExpressionCompileError, ExpressionRuntimeError, LimitError, SyntaxFault } from './errors.ts';
import type { Ev, Frame } from './frame.ts';
import { Lexer } from './lexer.ts';
import { DEFAULT_ALLOC_BUDGET, DEFAULT_STEP_BUDGET, enterMeter, leaveMeter, systemNow } from './limits.ts';
import { parseStatement } from './parse-statements.ts';
import { Parser, describe } from './parser.ts';
import { Lambda } from './values.ts';

const NO_SLOTS: unknown[] = [];

/** Maps an offset in `raw` to a document position, given that `raw[at]` is the `@` at `pos`. */
function positioner(raw: string, at: number, pos: ExprPos): (off: number) => ExprPos {
  return (off) => {
    const o = Math.max(at, Math.min(off, raw.length));
    let line = pos.line;
    let lineStart = -1;
    for (let i = at; i < o; i++) {
      if (raw.charCodeAt(i) === 10) {
        line++;
        lineStart = i;
      }
    }
    return { file: pos.file, line, col: lineStart < 0 ? pos.col + (o - at) : o - lineStart };
  };
}

function parseProgram(raw: string, at: number): { kind: 'expr' | 'block'; parser: Parser; stmt: Stmt | null } {
  const opener = raw[at + 1];
  const parser = new Parser(new Lexer(raw, at + 2).all());
  if (opener === '(') {
    return { kind: 'expr', parser, stmt: null };
  }
  const body: Stmt[] = [];
  while (!parser.isOp('}')) {
    if (parser.peek().k === 'eof') parser.fail("'}' expected");
    body.push(parseStatement(parser));
  }
  const close = parser.expectOp('}');
  return { kind: 'block', parser, stmt: { k: 'block', off: at, body, end: close.off } };
}

export class Compiled {
  readonly source: string;
  readonly #body: Ev;
  readonly #slots: number;
  readonly #posAt: (off: number) => ExprPos;
  /** `context.<part>.<name>`, or such reads and string literals joined by `+`, read directly (fastRead), or null. */
  readonly #fast: StringReader | null;

  constructor(source: string, body: Ev, slots: number, posAt: (off: number) => ExprPos, fast: StringReader | null = null) {
    this.source = source;
    this.#body = body;
    this.#slots = slots;
    this.#posAt = posAt;
    this.#fast = fast;
  }

  evaluate(ctx: RequestContext, opts?: { stepBudget?: number; allocBudget?: number; now?: () => number; random?: () => number }): unknown {
    // A few property reads cannot exhaust a default budget, so they skip the frame and the meter;
    // anything but a string (null part, null value) takes the general path below, as before.
    if (this.#fast !== null && opts === undefined) {
      const v = this.#fast(ctx);
      if (v !== undefined) return v;
    }
    const f: Frame = {
      left: opts?.stepBudget ?? DEFAULT_STEP_BUDGET,
      allocLeft: opts?.allocBudget ?? DEFAULT_ALLOC_BUDGET,
      now: opts?.now ?? systemNow,
      random: opts?.random ?? Math.random,
      slots: this.#slots === 0 ? NO_SLOTS : new Array<unknown>(this.#slots).fill(null),
      ctx,
      model: null,
      ret: null,
    };
    const prev = enterMeter(f);
    try {
      const v = this.#body(f);
      if (v instanceof Lambda || typeof v === 'function' || typeof v === 'symbol') throw new CsError('System.NotSupportedException', 'An expression cannot return a lambda.');
      return v === undefined ? null : v;
    } catch (err) {
      throw this.#runtimeError(err);
    } finally {
      leaveMeter(prev);
    }
  }

  #runtimeError(err: unknown): ExpressionRuntimeError {
    if (err instanceof CsError || err instanceof LimitError) {
      const pos = err.offset >= 0 ? this.#posAt(err.offset) : null;
      const where = pos === null ? '' : ` (at ${pos.file}:${pos.line}:${pos.col})`;
      const exception = err instanceof CsError ? err.csType : err.kind;
      return new ExpressionRuntimeError(`Expression evaluation failed. ${err.message}${where}`, { exception, pos, cause: err });
    }
    if (err instanceof RangeError) {
      return new ExpressionRuntimeError('Expression evaluation failed. The expression nests too deeply to evaluate.', { exception: 'StackOverflow', pos: null, cause: err });
    }
    const message = err instanceof Error ? err.message : 'unknown failure';
    return new ExpressionRuntimeError(`Expression evaluation failed. ${message}`, { exception: 'System.Exception', pos: null, cause: err });
  }
}

type StringReader = (ctx: RequestContext) => string | undefined;

/** The direct reader of an expression that is exactly `context.<part>.<name>` (no `?.`), else null. */
function contextRead(e: Expr): StringReader | null {
  if (e.k !== 'member' || e.cond) return null;
  const t = e.target;
  if (t.k !== 'member' || t.cond || t.target.k !== 'name' || t.target.name !== 'context') return null;
  return contextStringReader(t.name, e.name);
}

/**
 * A concatenation this long or shorter is neither charged memory nor steps by the interpreter
 * (limits.ts `joinedChars`), so building it directly cannot change whether it succeeds.
 */
const FAST_CONCAT_CHARS = 64;

/** Operands of a fast concatenation: a few dozen steps at most, far from any step budget. */
const FAST_CONCAT_OPERANDS = 16;

/** Collects the operands of a `+` chain of direct context reads and string literals, left to right; false for anything else. */
function concatOperands(e: Expr, into: Array<string | StringReader>): boolean {
  if (into.length >= FAST_CONCAT_OPERANDS) return false;
  if (e.k === 'lit') {
    if (typeof e.value !== 'string') return false;
    into.push(e.value);
    return true;
  }
  if (e.k === 'binary') return e.op === '+' && concatOperands(e.l, into) && concatOperands(e.r, into);
  const read = contextRead(e);
  if (read === null) return false;
  into.push(read);
  return true;
}

/**
 * The evaluator's fast path (Compiled.evaluate): `context.<part>.<name>`, or such reads joined
 * with string literals by `+` (`context.Subscription.Id + "/" + context.Api.Id`, a usual header
 * or counter key). With every read a string the interpreter's `+` is plain concatenation; a
 * non-string read or a longer result answers undefined, and the general path runs as before.
 */
function fastRead(e: Expr): StringReader | null {
  const direct = contextRead(e);
  if (direct !== null || e.k !== 'binary') return direct;
  const operands: Array<string | StringReader> = [];
  if (!concatOperands(e, operands) || operands.every((o) => typeof o === 'string')) return null;
  return (ctx) => {
    let text = '';
    for (const operand of operands) {
      const v = typeof operand === 'string' ? operand : operand(ctx);
      if (v === undefined) return undefined;
      text += v;
    }
    return text.length <= FAST_CONCAT_CHARS ? text : undefined;
  };
}

export function compile(raw: string, pos: ExprPos): Compiled {
  const at = raw.search(/\S/);
  const posAt = positioner(raw, Math.max(at, 0), pos);
  if (at < 0 || raw[at] !== '@' || (raw[at + 1] !== '(' && raw[at + 1] !== '{')) {
    throw new ExpressionCompileError("A policy expression starts with '@(' or '@{'", posAt(Math.max(at, 0)));
  }
  try {
    const { kind, parser, stmt } = parseProgram(raw, at);
    const c = new Compiler();
    c.lambdaBlock = (s) => compileBlock(c, s, true);
    let body: Ev;
    let fast: StringReader | null = null;
    if (kind === 'expr') {
      const e = parser.parseExpr();
      parser.expectOp(')');
      if (parser.peek().k !== 'eof') parser.fail(`Unexpected ${describe(parser.peek())} after the expression`);
      checkContextMembers(e);
      body = c.expr(e);
      fast = fastRead(e);
    } else {
      if (parser.peek().k !== 'eof') parser.fail(`Unexpected ${describe(parser.peek())} after the block`);
      checkContextMembers(stmt as Stmt);
      body = compileBlock(c, stmt as Stmt, false);
    }
    return new Compiled(raw, body, c.slotCount, posAt, fast);
  } catch (err) {
    if (err instanceof SyntaxFault) throw new ExpressionCompileError(err.message, posAt(err.offset));
    if (err instanceof RangeError) throw new ExpressionCompileError('The expression is nested too deeply', posAt(at));
    throw new ExpressionCompileError(`Internal compiler error: ${err instanceof Error ? err.message : String(err)}`, posAt(at));
  }
}
