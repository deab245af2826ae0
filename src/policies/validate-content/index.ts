/**
 * `<validate-content unspecified-content-type-action max-size size-exceeded-action
 * errors-variable-name>` with `<content-type-map>` and `<content type validate-as="json"
 * schema-id schema-ref action allow-additional-properties>`: APIM's request/response body
 * validation. In inbound it checks the request body, in outbound and on-error the response body.
 * `prevent` ends the request with APIM's status (400 inbound, 502 outbound) and public message,
 * `detect` records the error and goes on, `ignore` skips; every error detected is also written to
 * `errors-variable-name` as APIM's `{Name, Type, ValidationRule, Details, Action}` objects.
 * Schemas come from the config's `schemas` section (schemas.ts); without `schema-id` (APIM would
 * use the API definition's schema, which Tollgate does not have) the body must be well-formed JSON.
 * @module
 */
import type { RequestContext } from '../../core/context.ts';
import { GatewayError } from '../../core/errors.ts';
import { toJToken } from '../../expressions/index.ts';
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { ElementReader } from '../../policy-docs/reader.ts';
import type { Dyn } from '../../policy-docs/values.ts';
import { responseBytes } from '../shared/message.ts';
import { describeErrors, validatorFor } from './schemas.ts';
import type { ValidateFunction } from 'ajv';

const ACTIONS = ['ignore', 'prevent', 'detect'] as const;
type Action = (typeof ACTIONS)[number];

/** APIM's maximum for max-size. */
export const MAX_SIZE_LIMIT = 102_400;

/** What the client sees for a response that fails validation: nothing about the backend. */
const INTERNAL = 'The request could not be processed due to an internal error. Contact the API owner.';

interface ContentRule {
  /** Lower-case media type; null applies to every type no other rule names. */
  readonly type: string | null;
  readonly action: Action;
  /** Null: well-formed JSON only. */
  readonly validate: ValidateFunction | null;
  readonly definition: string;
}

interface TypeMap {
  readonly any: string | undefined;
  readonly missing: string | undefined;
  readonly rules: readonly { readonly from: string | undefined; readonly when: Dyn<boolean> | undefined; readonly to: string }[];
}

interface ValidationError {
  readonly Name: string;
  readonly Type: 'RequestBody' | 'ResponseBody';
  readonly ValidationRule: string;
  readonly Details: string;
  readonly Action: Action;
}

const mediaType = (v: string | string[] | undefined): string => String(Array.isArray(v) ? v[0] : (v ?? '')).split(';')[0]?.trim().toLowerCase() ?? '';

function readTypeMap(r: ElementReader, el: ReturnType<ElementReader['children']>[number]): TypeMap {
  const mr = new ElementReader(el);
  const any = mr.literal('any-content-type-value')?.toLowerCase();
  const missing = mr.literal('missing-content-type-value')?.toLowerCase();
  const rules = mr.children(['type']).map((t) => {
    const tr = new ElementReader(t);
    const from = tr.literal('from')?.toLowerCase();
    const when = tr.bool('when');
    const to = (tr.literal('to', true) as string).toLowerCase();
    tr.noText();
    tr.done();
    if ((from === undefined) === (when === undefined)) throw r.fail(null, '<type> in <content-type-map> needs exactly one of from and when');
    return { from, when, to };
  });
  mr.noText();
  mr.done();
  return { any, missing, rules };
}

/** The content type validation uses: the incoming one, mapped as `<content-type-map>` says. */
function effectiveType(ctx: RequestContext, incoming: string, map: TypeMap | null): string {
  if (map === null) return incoming;
  for (const rule of map.rules) {
    if (rule.from !== undefined ? rule.from === incoming : rule.when?.(ctx) === true) return rule.to;
  }
  if (map.any !== undefined) return map.any;
  if (incoming === '' && map.missing !== undefined) return map.missing;
  return incoming;
}

export const validateContentDefinition: PolicyDefinition = {
  names: ['validate-content'],
  sections: ['inbound', 'outbound', 'on-error'],
  compile(r, scope, env) {
    r.noText();
    const unspecified = r.oneOf('unspecified-content-type-action', ACTIONS, undefined, true) as Action;
    const maxSize = r.int('max-size', { min: 0, max: MAX_SIZE_LIMIT, required: true }) as Dyn<number>;
    const sizeAction = r.oneOf('size-exceeded-action', ACTIONS, undefined, true) as Action;
    const variable = r.literal('errors-variable-name');
    const schemas = env.services.contentSchemas ?? new Map<string, object>();
    let typeMap: TypeMap | null = null;
    const contents: ContentRule[] = [];
    for (const c of r.children(['content-type-map', 'content'])) {
      if (c.name === 'content-type-map') {
        if (typeMap !== null) throw r.fail(null, 'takes one <content-type-map>');
        typeMap = readTypeMap(r, c);
        continue;
      }
      const cr = new ElementReader(c);
      const type = cr.literal('type')?.trim().toLowerCase() || null;
      const as = cr.oneOf('validate-as', ['json', 'xml', 'soap'] as const, undefined, true);
      if (as !== 'json') throw cr.fail('validate-as', `"${as}" is not supported: Tollgate validates JSON bodies against JSON schemas (there is no XML schema engine)`);
      const action = cr.oneOf('action', ACTIONS, undefined, true) as Action;
      const schemaId = cr.literal('schema-id');
      const schemaRef = cr.literal('schema-ref');
      const allow = cr.bool('allow-additional-properties');
      if (allow !== undefined && allow.constant === undefined) throw cr.fail('allow-additional-properties', 'must be true or false (not an expression)');
      // Accepted as APIM does; property names are matched as the schema spells them.
      cr.bool('case-insensitive-property-names');
      cr.noText();
      cr.done();
      if (contents.some((x) => x.type === type)) throw cr.fail('type', type === null ? 'appears twice without a type' : `"${type}" has two <content> elements`);
      if (schemaRef !== undefined && schemaId === undefined) throw cr.fail('schema-ref', 'needs schema-id');
      let validate: ValidateFunction | null = null;
      if (schemaId !== undefined) {
        const schema = schemas.get(schemaId);
        if (schema === undefined) throw cr.fail('schema-id', `names no schema under schemas (${[...schemas.keys()].join(', ') || 'none configured'})`);
        try {
          validate = validatorFor(schema, schemaId, schemaRef, allow?.constant);
        } catch (err) {
          throw cr.fail(schemaRef === undefined ? 'schema-id' : 'schema-ref', (err as Error).message);
        }
      }
      contents.push({ type, action, validate, definition: schemaRef ?? schemaId ?? 'JSON' });
    }
    const target = scope.target;
    const kind = target === 'request' ? 'RequestBody' : 'ResponseBody';
    const status = target === 'request' ? 400 : 502;
    const limit = env.services.maxResponseBytes;
    const noun = target === 'request' ? 'request' : 'response';

    const check = (ctx: RequestContext, body: Buffer, headers: Record<string, string | string[] | undefined>): void => {
      const found: ValidationError[] = [];
      // `prevent` stops at the first error (APIM: "processing is interrupted when the first set of errors is detected").
      const report = (action: Action, e: Omit<ValidationError, 'Action' | 'Type'>, publicMessage: string): void => {
        if (action === 'ignore') return;
        found.push({ ...e, Type: kind, Action: action });
        if (action === 'prevent') {
          if (variable !== undefined) ctx.variables.set(variable, toJToken(found));
          throw new GatewayError('GW_ERR_CONTENT_VALIDATION', target === 'request' ? publicMessage : INTERNAL, { status });
        }
      };
      const max = maxSize(ctx);
      const declared = Number(String(headers['content-length'] ?? ''));
      const size = Math.max(body.length, Number.isFinite(declared) ? declared : 0);
      if (size > max) {
        const details = `${target === 'request' ? "Request's" : "Response's"} body is ${size} bytes long and it exceeds the configured limit of ${max} bytes.`;
        report(sizeAction, { Name: '', ValidationRule: 'SizeLimit', Details: details }, `Request's body is ${size} bytes long and it exceeds the limit of ${max} bytes.`);
      }
      const incoming = mediaType(headers['content-type']);
      // Nothing to validate: no body and no content type.
      if (body.length > 0 || incoming !== '') {
        const ct = effectiveType(ctx, incoming, typeMap);
        const rule = contents.find((c) => c.type === ct) ?? contents.find((c) => c.type === null);
        if (rule === undefined) {
          const details = `Unspecified content type ${ct} is not allowed.`;
          report(unspecified, { Name: ct, ValidationRule: 'Unspecified', Details: details }, details);
        } else if (rule.action !== 'ignore') {
          validateBody(ct, rule, body, report);
        }
      }
      if (variable !== undefined && found.length > 0) ctx.variables.set(variable, toJToken(found));
    };

    const validateBody = (ct: string, rule: ContentRule, body: Buffer, report: (a: Action, e: Omit<ValidationError, 'Action' | 'Type'>, p: string) => void): void => {
      const prefix = `Body of the ${noun} does not conform to the definition ${rule.definition}, which is associated with the content type ${ct}.`;
      let value: unknown;
      try {
        value = JSON.parse(body.toString('utf8'));
      } catch (err) {
        const details = `${prefix} ${(err as Error).message}`;
        report(rule.action, { Name: ct, ValidationRule: 'IncorrectMessage', Details: details }, details);
        return;
      }
      if (rule.validate === null || rule.validate(value)) return;
      const details = `${prefix} ${describeErrors(rule.validate.errors).join('; ')}`;
      report(rule.action, { Name: ct, ValidationRule: 'IncorrectMessage', Details: details }, details);
    };

    if (target === 'request') {
      return {
        name: 'validate-content',
        run(ctx) {
          check(ctx, ctx.request.body ?? Buffer.alloc(0), ctx.request.headers);
        },
      };
    }
    return {
      name: 'validate-content',
      async run(ctx) {
        const res = ctx.response;
        if (res === null) return;
        // A stream of events is passed through as it comes: only its declared size can be checked.
        if (res.body.kind === 'stream' && res.body.sse) {
          check(ctx, Buffer.alloc(0), { 'content-length': res.headers['content-length'] });
          return;
        }
        const body = await responseBytes(ctx, limit);
        check(ctx, body, res.headers);
      },
    };
  },
};
