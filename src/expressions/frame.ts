/**
 * What compiled code runs against: the per-evaluation frame (slots for locals, the request, the
 * step meter), closure types, and lexical scopes used while compiling.
 * @module
 */
import type { RequestContext } from '../core/context.ts';
import type { Arg, Expr } from './ast.ts';
import type { ContextModel } from './context-model.ts';
import { CsError, LimitError, SyntaxFault } from './errors.ts';
import type { Meter } from './limits.ts';
import type { CType } from './types.ts';

export interface Frame extends Meter {
  readonly slots: unknown[];
  readonly ctx: RequestContext;
  model: ContextModel | null;
  /** The value of the last `return`. */
  ret: unknown;
}

export type Ev = (f: Frame) => unknown;

/** Marks a `?.`/`?[` short-circuit travelling up its chain; the chain node turns it into null. */
export const SHORT = Symbol('short-circuit');

export interface Slot {
  readonly index: number;
  /** Declared type for implicit conversions on assignment; null for `var` and lambda parameters. */
  readonly type: CType | null;
  readonly readonly: boolean;
}

export class Scope {
  readonly parent: Scope | null;
  readonly names = new Map<string, Slot>();
  constructor(parent: Scope | null) {
    this.parent = parent;
  }
  find(name: string): Slot | undefined {
    return this.names.get(name) ?? this.parent?.find(name);
  }
}

/** The part of the compiler that assignment and statement compilation build on. */
export interface ExprCompiler {
  readonly scope: Scope;
  expr(e: Expr): Ev;
  /** Call arguments: lambdas become Lambda values, `out` arguments OutRefs. */
  args(args: readonly Arg[]): Ev[];
}

/** Gives a thrown error the position of the node that raised it (innermost wins). */
export function located(e: unknown, off: number): never {
  if (e instanceof CsError || e instanceof LimitError) {
    if (e.offset < 0) e.offset = off;
    throw e;
  }
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    const l = new LimitError('StackOverflow', 'The expression nests too deeply to evaluate.');
    l.offset = off;
    throw l;
  }
  const c = new CsError('System.InvalidOperationException', e instanceof Error ? e.message : String(e));
  c.offset = off;
  throw c;
}

export function fail(msg: string, off: number): never {
  throw new SyntaxFault(msg, off);
}
