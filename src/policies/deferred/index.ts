/**
 * Definitions for the policies in `schemas.ts`: validated at load, and until their release lands
 * they run as no-ops, each announced by a load-time notice so nobody mistakes them for enforced.
 * @module
 */
import type { PolicyDefinition, PolicyEnv } from '../../policy-docs/compile.ts';
import type { PolicyElement } from '../../policy-docs/element.ts';
import { ElementReader } from '../../policy-docs/reader.ts';
import { DEFERRED, type AttrSpec, type DeferredSpec } from './schemas.ts';

function checkAttrs(r: ElementReader, attrs: Readonly<Record<string, AttrSpec>>, env: PolicyEnv): void {
  for (const [name, spec] of Object.entries(attrs)) {
    const v = spec.required === true ? r.required(name) : r.raw(name);
    if (v === undefined) continue;
    const isExpr = /^\s*@[({]/.test(v.value);
    if (isExpr) {
      if (spec.expr !== true) throw r.fail(name, 'does not accept policy expressions');
      // Compile it now so an expression error is a load error with its position.
      r.any(name);
      continue;
    }
    const t = v.value.trim();
    const kind = spec.kind;
    if (kind === 'int' || kind === 'number') {
      const n = Number(t);
      if (t === '' || !Number.isFinite(n) || (kind === 'int' && !Number.isInteger(n))) throw r.fail(name, `must be ${kind === 'int' ? 'an integer' : 'a number'}, got "${v.value}"`);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw r.fail(name, `must be from ${spec.min ?? '-∞'} to ${spec.max ?? '∞'}, got ${n}`);
      }
    } else if (kind === 'bool') {
      if (t !== 'true' && t !== 'false') throw r.fail(name, `must be true or false, got "${v.value}"`);
    } else if (typeof kind === 'object') {
      r.oneOf(name, kind.oneOf);
    }
    if (spec.ref === 'backend' && !env.backendIds.has(t)) throw r.fail(name, `names backend "${t}", which is not defined under backends`);
    if (spec.ref === 'logger' && !env.loggerIds.has(t)) throw r.fail(name, `names logger "${t}", which is not defined under loggers`);
  }
}

function definition(spec: DeferredSpec): PolicyDefinition {
  return {
    names: spec.names,
    sections: spec.sections,
    compile(r, _scope, env) {
      checkAttrs(r, spec.attrs, env);
      const children = spec.children ?? {};
      for (const child of r.children(Object.keys(children)) as PolicyElement[]) {
        const c = new ElementReader(child);
        checkAttrs(c, children[child.name] ?? {}, env);
        if (child.text !== null) c.text();
        c.done();
      }
      if (spec.text === true) r.text();
      else r.noText();
      env.notice(`<${r.el.name}> is validated but not enforced yet (it arrives with ${spec.arrives})`, r.el.pos);
      const name = r.el.name;
      const at = `${r.el.pos.file}:${r.el.pos.line}:${r.el.pos.col}`;
      const logger = env.services.logger;
      // Not enforced, but visible: at debug level each run is logged, so a choose that picks
      // between such policies can be followed (and tested) before they are enforced.
      return {
        name,
        run(ctx) {
          if (logger.isLevelEnabled('debug')) logger.debug({ requestId: ctx.requestId, policy: name, at }, 'policy not enforced yet');
        },
      };
    },
  };
}

export const deferredDefinitions: readonly PolicyDefinition[] = DEFERRED.map(definition);
