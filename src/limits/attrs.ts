/**
 * Reading the name attributes of limit policies (`remaining-tokens-header-name`, ...).
 * @module
 */
import type { PolicyEnv } from '../policy-docs/compile.ts';
import type { ElementReader } from '../policy-docs/reader.ts';

const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * A header name attribute, lower-cased (checked here once, not per request). An invalid name (the
 * seeds have `x-]tokens-consumed`) still loads, as APIM loads it, but that header is never sent; a
 * load-time notice says so.
 */
export function headerNameAttr(r: ElementReader, env: PolicyEnv, attr: string, fallback?: string): string | undefined {
  const v = r.literal(attr);
  const name = v ?? fallback;
  if (name === undefined) return undefined;
  if (!TOKEN.test(name)) {
    env.notice(`<${r.el.name}> ${attr}="${name}" is not a valid HTTP header name; that header will not be sent`, r.el.attrs.get(attr)?.pos ?? r.el.pos);
    return undefined;
  }
  return name.toLowerCase();
}

export function variableNameAttr(r: ElementReader, attr: string): string | undefined {
  return r.literal(attr);
}
