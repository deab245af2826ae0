/**
 * `switch` and `using` statements → closures. Case labels are compile-time constants, looked up
 * in a Map (strings ordinal, as C# compares them); a section runs to its `break` (which leaves the
 * switch) or passes `continue`/`return` on. `using` disposes its resources when its body ends,
 * however it ends.
 * @module
 */
import type { Stmt } from './ast.ts';
import { constValue } from './compile-const.ts';
import { callMethod } from './dispatch.ts';
import { type Frame, fail, located } from './frame.ts';
import { budgetExceeded } from './limits.ts';
import { unwrap } from './operators.ts';
import { NOT_CONST, descOf } from './registry.ts';
import { BREAK, type Ctx, NORMAL, type St, type StatementCompiler } from './compile-statements.ts';
import { CsChar, CsDouble, CsEnum, csString } from './values.ts';

/** A Map key under which equal C# constants meet (1 and "1" stay apart). */
function keyOf(v: unknown): unknown {
  if (v instanceof CsChar) return `\u0000c${v.c}`;
  if (v instanceof CsDouble) return v.v;
  if (v instanceof CsEnum) return `\u0000e${v.type}:${v.value}`;
  if (v === undefined) return null;
  return v;
}

export function compileSwitch(sc: StatementCompiler, s: Extract<Stmt, { k: 'switch' }>, x: Ctx): St {
  const value = sc.c.expr(s.e);
  const inner: Ctx = { ...x, switches: x.switches + 1 };
  const isLocal = (n: string): boolean => sc.c.scope.find(n) !== undefined;
  // One scope for the whole switch block, as in C#.
  return sc.scoped(() => {
    const byKey = new Map<unknown, number>();
    let fallback = -1;
    const bodies = s.sections.map((sec, idx) => {
      for (const l of sec.labels) {
        if (l === null) {
          if (fallback >= 0) fail('The switch statement contains multiple cases with the label value \'default\'', sec.off);
          fallback = idx;
          continue;
        }
        const c = constValue(l, isLocal);
        if (c === NOT_CONST) fail('A constant value is expected', l.off);
        const key = keyOf(c);
        if (byKey.has(key)) fail(`The switch statement contains multiple cases with the label value '${c === null ? 'null' : csString(c)}'`, l.off);
        byKey.set(key, idx);
      }
      return sec.body.map((b) => sc.stmt(b, inner));
    });
    return (f: Frame) => {
      if (--f.left < 0) budgetExceeded();
      let v: unknown;
      try {
        v = unwrap(value(f));
      } catch (err) {
        located(err, s.off);
      }
      const body = bodies[byKey.get(keyOf(v)) ?? fallback];
      if (body === undefined) return NORMAL;
      for (const st of body) {
        const r = st(f);
        if (r === BREAK) return NORMAL;
        if (r !== NORMAL) return r;
      }
      return NORMAL;
    };
  });
}

function dispose(v: unknown): void {
  if (v !== null && v !== undefined && descOf(v).methods.has('Dispose')) callMethod(v, 'Dispose', [], []);
}

export function compileUsing(sc: StatementCompiler, s: Extract<Stmt, { k: 'using' }>, x: Ctx): St {
  return sc.scoped(() => {
    const decl = s.decl === null ? null : sc.stmt(s.decl, x);
    const slots = s.decl?.k === 'decl' ? s.decl.vars.map((v) => sc.c.scope.find(v.name)?.index ?? -1) : [];
    const resource = s.e === null ? null : sc.c.expr(s.e);
    const body = sc.stmt(s.body, x);
    return (f: Frame) => {
      if (decl !== null) decl(f);
      const held = resource === null ? slots.map((i) => f.slots[i]) : [resource(f)];
      try {
        return body(f);
      } finally {
        for (const v of held) dispose(v);
      }
    };
  });
}
