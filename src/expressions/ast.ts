/**
 * The syntax tree of the C# subset. Every node keeps `off`, its offset in the raw expression text,
 * so that compile errors and runtime errors can name a line and column.
 * @module
 */

/** A type as written: `string`, `JObject`, `List<string>`, `int?`, `string[]`. */
export interface TypeRef {
  readonly name: string;
  readonly args: readonly TypeRef[];
  /** Number of `[]` suffixes. */
  readonly rank: number;
  readonly nullable: boolean;
  readonly off: number;
}

export interface Arg {
  readonly name: string | null;
  readonly e: Expr;
}

export type InitEntry =
  | { readonly k: 'add'; readonly args: readonly Expr[]; readonly off: number }
  | { readonly k: 'index'; readonly index: readonly Expr[]; readonly value: Expr; readonly off: number };

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '<<' | '>>' | '<' | '>' | '<=' | '>=' | '==' | '!=' | '&' | '|' | '^' | '&&' | '||' | '??';
export type UnaryOp = '-' | '+' | '!' | '~';

export type Expr =
  | { readonly k: 'lit'; readonly off: number; readonly value: unknown }
  | {
      readonly k: 'interp';
      readonly off: number;
      readonly parts: readonly (string | { readonly e: Expr; readonly align: Expr | null; readonly fmt: string | null })[];
    }
  | { readonly k: 'name'; readonly off: number; readonly name: string }
  | { readonly k: 'member'; readonly off: number; readonly target: Expr; readonly name: string; readonly cond: boolean }
  | { readonly k: 'index'; readonly off: number; readonly target: Expr; readonly args: readonly Expr[]; readonly cond: boolean }
  | {
      readonly k: 'call';
      readonly off: number;
      readonly target: Expr | null;
      readonly name: string;
      readonly cond: boolean;
      readonly targs: readonly TypeRef[];
      readonly args: readonly Arg[];
    }
  /** The outermost node of a chain containing `?.`/`?[`: turns a short-circuit into null. */
  | { readonly k: 'chain'; readonly off: number; readonly e: Expr }
  | { readonly k: 'unary'; readonly off: number; readonly op: UnaryOp; readonly e: Expr }
  | { readonly k: 'binary'; readonly off: number; readonly op: BinaryOp; readonly l: Expr; readonly r: Expr }
  | { readonly k: 'cond'; readonly off: number; readonly c: Expr; readonly t: Expr; readonly f: Expr }
  | { readonly k: 'assign'; readonly off: number; readonly op: BinaryOp | '='; readonly target: Expr; readonly value: Expr }
  | { readonly k: 'incdec'; readonly off: number; readonly op: '+' | '-'; readonly prefix: boolean; readonly target: Expr }
  | { readonly k: 'cast'; readonly off: number; readonly type: TypeRef; readonly e: Expr }
  | { readonly k: 'is'; readonly off: number; readonly e: Expr; readonly type: TypeRef | null; readonly not: boolean; readonly decl: string | null }
  | { readonly k: 'as'; readonly off: number; readonly e: Expr; readonly type: TypeRef }
  | {
      readonly k: 'lambda';
      readonly off: number;
      readonly params: readonly { readonly name: string; readonly off: number }[];
      readonly body: Expr | Stmt;
    }
  | { readonly k: 'new'; readonly off: number; readonly type: TypeRef; readonly args: readonly Arg[]; readonly init: readonly InitEntry[] | null }
  | { readonly k: 'newArray'; readonly off: number; readonly type: TypeRef | null; readonly size: Expr | null; readonly items: readonly Expr[] | null }
  | { readonly k: 'newAnon'; readonly off: number; readonly fields: readonly { readonly name: string; readonly e: Expr }[] }
  | { readonly k: 'default'; readonly off: number; readonly type: TypeRef | null }
  /** `out var x`, `out int x`, `out x`, `out _` — only as a call argument. */
  | { readonly k: 'out'; readonly off: number; readonly decl: TypeRef | null; readonly name: string };

export type Stmt =
  | { readonly k: 'block'; readonly off: number; readonly body: readonly Stmt[]; readonly end: number }
  | {
      readonly k: 'decl';
      readonly off: number;
      readonly type: TypeRef;
      readonly vars: readonly { readonly name: string; readonly off: number; readonly init: Expr | null }[];
    }
  | { readonly k: 'expr'; readonly off: number; readonly e: Expr }
  | { readonly k: 'if'; readonly off: number; readonly c: Expr; readonly t: Stmt; readonly f: Stmt | null }
  | { readonly k: 'while'; readonly off: number; readonly c: Expr; readonly body: Stmt }
  | { readonly k: 'do'; readonly off: number; readonly body: Stmt; readonly c: Expr }
  | {
      readonly k: 'for';
      readonly off: number;
      readonly init: readonly Stmt[];
      readonly c: Expr | null;
      readonly iter: readonly Expr[];
      readonly body: Stmt;
    }
  | { readonly k: 'foreach'; readonly off: number; readonly type: TypeRef; readonly name: string; readonly nameOff: number; readonly coll: Expr; readonly body: Stmt }
  | { readonly k: 'return'; readonly off: number; readonly e: Expr | null }
  | { readonly k: 'break'; readonly off: number }
  | { readonly k: 'continue'; readonly off: number }
  | { readonly k: 'throw'; readonly off: number; readonly e: Expr | null }
  | {
      readonly k: 'try';
      readonly off: number;
      readonly body: Stmt;
      readonly catches: readonly { readonly type: TypeRef | null; readonly name: string | null; readonly body: Stmt }[];
      readonly fin: Stmt | null;
    }
  | {
      readonly k: 'switch';
      readonly off: number;
      readonly e: Expr;
      /** Each section: its labels (null for `default`) and its statements. */
      readonly sections: readonly { readonly labels: readonly (Expr | null)[]; readonly body: readonly Stmt[]; readonly off: number }[];
    }
  /** `using (var x = e) body` or `using (e) body`: `decl` or `e` is disposed when the body ends. */
  | { readonly k: 'using'; readonly off: number; readonly decl: Stmt | null; readonly e: Expr | null; readonly body: Stmt }
  | { readonly k: 'empty'; readonly off: number };
