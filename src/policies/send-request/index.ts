/**
 * `<send-request mode="new|copy" response-variable-name="r" timeout="20" ignore-error="false">` with
 * `<set-url>`, `<set-method>`, `<set-header>`, `<set-body>` and an authentication child
 * (authentication.ts): a side request whose response is kept
 * in a variable (`StoredResponse`). It goes through the guarded outbound client, which refuses
 * internal addresses unless `outbound.allowPrivateNetworks` is on, and follows no redirects.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { GatewayError } from '../../core/errors.ts';
import { ElementReader } from '../../policy-docs/reader.ts';
import type { Dyn } from '../../policy-docs/values.ts';
import { readBounded } from '../../upstream/read-bounded.ts';
import { isForbiddenTarget } from '../../upstream/ssrf-guard.ts';
import { checkHeaderName, checkHeaderValue } from '../shared/message.ts';
import { StoredResponse } from './stored-response.ts';
import { readValueList, type ExistsAction } from '../shared/value-list.ts';
import { AUTHENTICATION_CHILDREN, compileAuthentication, type Authenticate } from './authentication.ts';

const COPY_DROP = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'api-key', 'ocp-apim-subscription-key', 'authorization']);

export const sendRequestDefinition: PolicyDefinition = {
  names: ['send-request'],
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  compile(r, _scope, env) {
    const mode = r.oneOf('mode', ['new', 'copy'] as const, 'new') ?? 'new';
    const variable = r.literal('response-variable-name');
    const timeoutText = r.literal('timeout');
    const timeoutS = timeoutText === undefined ? 60 : Number(timeoutText);
    if (!Number.isInteger(timeoutS) || timeoutS < 1 || timeoutS > 240) throw r.fail('timeout', 'must be whole seconds from 1 to 240');
    const ignoreError = r.literal('ignore-error')?.trim() === 'true';
    let url: Dyn<string> | undefined;
    let method: Dyn<string> | undefined;
    let body: Dyn<string> | undefined;
    const headers: Array<{ name: string; action: ExistsAction; values: readonly Dyn<string>[] }> = [];
    let authenticate: Authenticate | undefined;
    for (const child of r.children(['set-url', 'set-method', 'set-header', 'set-body', ...AUTHENTICATION_CHILDREN])) {
      const c = new ElementReader(child);
      switch (child.name) {
        case 'set-url':
          url = c.text();
          break;
        case 'set-method':
          method = c.text();
          break;
        case 'set-body':
          body = c.text();
          break;
        case 'set-header': {
          const name = checkHeaderName(c.literal('name', true) as string);
          const { action, values } = readValueList(c);
          headers.push({ name, action, values });
          break;
        }
        default:
          if (authenticate !== undefined) throw c.fail(null, 'is a second authentication child of <send-request>; give one');
          authenticate = compileAuthentication(c, env);
      }
      c.done();
    }
    if (url === undefined && mode === 'new') throw r.fail(null, 'needs <set-url> in mode="new"');
    const services = env.services;
    return {
      name: 'send-request',
      async run(ctx) {
        const out: Record<string, string | string[]> = {};
        let m = 'GET';
        let payload: Buffer | null = null;
        const target = url?.(ctx);
        if (mode === 'copy') {
          for (const [k, v] of Object.entries(ctx.request.headers)) if (v !== undefined && !COPY_DROP.has(k)) out[k] = v;
          m = ctx.request.method;
          payload = ctx.request.body;
        }
        if (method !== undefined) m = method(ctx).trim().toUpperCase();
        if (body !== undefined) payload = Buffer.from(body(ctx));
        for (const h of headers) {
          if (h.action === 'delete') delete out[h.name];
          else if (h.action === 'skip' && out[h.name] !== undefined) continue;
          else {
            const vals = h.values.map((v) => checkHeaderValue(h.name, v(ctx)));
            const prev = out[h.name];
            out[h.name] = h.action === 'append' && prev !== undefined ? [...(Array.isArray(prev) ? prev : [prev]), ...vals] : vals.length === 1 ? (vals[0] as string) : vals;
          }
        }
        if (target === undefined) throw new GatewayError('GW_ERR_POLICY_FAILED', 'send-request: no URL (set <set-url>).');
        // Credentials last, so that they replace any Authorization a <set-header> or mode="copy" put there.
        if (authenticate !== undefined) await authenticate(ctx, out);
        let stored: StoredResponse | null = null;
        try {
          let parsed: URL;
          try {
            parsed = new URL(target);
          } catch {
            throw new GatewayError('GW_ERR_POLICY_FAILED', 'send-request: <set-url> is not a valid URL.');
          }
          services.outbound.check(parsed);
          const res = await services.outbound.dispatcher.request({
            origin: parsed.origin,
            path: parsed.pathname + parsed.search,
            method: m,
            headers: out,
            body: payload,
            signal: ctx.signal,
            headersTimeout: timeoutS * 1000,
            bodyTimeout: timeoutS * 1000,
          });
          const read = await readBounded(res.body, services.maxResponseBytes, parsed.host);
          if (read.kind === 'overflow') {
            read.stream.destroy();
            throw new GatewayError('GW_ERR_SEND_REQUEST_FAILED', 'send-request: the response is larger than gateway.maxResponseBytes.');
          }
          const h: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = v;
          stored = new StoredResponse(res.statusCode, h, read.data);
        } catch (err) {
          if (!ignoreError) throw sendError(err);
          stored = null;
        }
        if (variable !== undefined) ctx.variables.set(variable, stored);
      },
    };
  },
};

function sendError(err: unknown): GatewayError {
  if (GatewayError.is(err)) return err;
  const code = (err as { code?: unknown }).code;
  if (isForbiddenTarget(err)) {
    return new GatewayError('GW_ERR_SEND_REQUEST_FORBIDDEN_TARGET', 'send-request: the target resolves to an internal address and outbound.allowPrivateNetworks is off.', { cause: err });
  }
  return new GatewayError('GW_ERR_SEND_REQUEST_FAILED', `send-request failed (${typeof code === 'string' ? code : 'error'}).`, { cause: err });
}
