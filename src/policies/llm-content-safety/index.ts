/**
 * `llm-content-safety`: the prompt (every message's text) is checked by Azure AI Content Safety
 * through a backend, or by a local engine (config `contentSafety.engines`), before the model is
 * called; a flagged prompt is refused with 403 `GW_ERR_CONTENT_BLOCKED`, naming the category,
 * blocklist or attack, never the text. With `enforce-on-completions="true"` the answer is checked
 * too: a JSON answer before it is sent, a stream window by window (./completions.ts). When the
 * service cannot answer, `fail-mode` decides: `closed` (default) refuses with 503
 * `GW_ERR_CONTENT_SAFETY_UNAVAILABLE`, `open` lets the request through and logs a warning.
 * docs/content-safety.md.
 * @module
 */
import type { RequestContext } from '../../core/context.ts';
import { GatewayError } from '../../core/errors.ts';
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { ElementReader } from '../../policy-docs/reader.ts';
import type { Dyn } from '../../policy-docs/values.ts';
import { AzureContentSafety, MAX_ANALYZE_CHARS } from '../../content-safety/azure.ts';
import { CATEGORIES, ContentSafetyUnavailable, describeFinding, findingLabel, type Category, type Engine, type Finding, type Rules, type TextPiece } from '../../content-safety/engine.ts';
import type { LocalEngine } from '../../content-safety/local.ts';
import { promptParts } from '../../content-safety/text.ts';
import { configuredCredentials } from '../../upstream/side-call.ts';
import { sendParsedBody, sendWhatWasRead } from '../shared/parsed-body.ts';
import { checkCompletion, type CompletionCheck } from './completions.ts';

/** Default window of a streamed completion (characters): one Azure text record, about 250 tokens. */
export const DEFAULT_STREAM_WINDOW = 1000;
/** Default overlap between windows, so a word cut at a window's edge is still seen whole. */
export const DEFAULT_OVERLAP = 32;

export const llmContentSafetyDefinition: PolicyDefinition = {
  names: ['llm-content-safety'],
  sections: ['inbound', 'outbound'],
  compile(r, scope, env) {
    const id = (r.literal('backend-id', true) as string).trim();
    const local = env.services.contentSafety.engines.get(id);
    if (local !== undefined && env.backendIds.has(id)) throw r.fail('backend-id', `"${id}" names both a backend and a local content-safety engine; rename one`);
    if (local === undefined && !env.backendIds.has(id)) throw r.fail('backend-id', `names "${id}", which is neither a backend nor a local engine under contentSafety.engines`);
    const shield = r.bool('shield-prompt', false) as Dyn<boolean>;
    const onCompletions = r.bool('enforce-on-completions', false) as Dyn<boolean>;
    const windowSize = r.int('window-size', { min: 1, max: MAX_ANALYZE_CHARS });
    const overlapSize = r.int('window-overlap-size', { min: 0, max: MAX_ANALYZE_CHARS - 1 });
    const failMode = r.oneOf('fail-mode', ['open', 'closed'] as const, env.services.contentSafety.failMode) ?? 'closed';
    r.noText();
    const thresholds = new Map<Category, number>();
    let outputType: Rules['outputType'] = 'FourSeverityLevels';
    const blocklists: string[] = [];
    for (const child of r.children(['categories', 'blocklists'])) {
      const c = new ElementReader(child);
      if (child.name === 'categories') {
        outputType = c.oneOf('output-type', ['FourSeverityLevels', 'EightSeverityLevels'] as const, 'FourSeverityLevels') ?? 'FourSeverityLevels';
        for (const cat of c.children(['category'])) {
          const cr = new ElementReader(cat);
          const name = cr.oneOf('name', CATEGORIES, undefined, true) as Category;
          const t = Number((cr.literal('threshold', true) as string).trim());
          if (!Number.isInteger(t) || t < 0 || t > 7) throw cr.fail('threshold', 'must be an integer from 0 (strictest) to 7');
          if (thresholds.has(name)) throw cr.fail('name', `repeats category ${name}`);
          cr.noText();
          cr.done();
          thresholds.set(name, t);
        }
      } else {
        for (const item of c.children(['id'])) {
          const ir = new ElementReader(item);
          const text = item.text?.value.trim() ?? '';
          if (text === '' || /^@[({]/.test(text)) throw ir.fail(null, 'needs a blocklist name as text');
          ir.done();
          blocklists.push(text);
        }
      }
      c.noText();
      c.done();
    }
    if (local !== undefined) checkLocal(r, local, thresholds, blocklists);
    const services = env.services;
    const engine: Engine =
      local ??
      new AzureContentSafety(services.backends.get(id) as NonNullable<ReturnType<typeof services.backends.get>>, {
        timeoutMs: services.contentSafety.timeoutMs,
        credentials: configuredCredentials,
        clock: services.clock,
      });
    const name = r.el.name;
    const logger = services.logger;
    const at = `${r.el.pos.file}:${r.el.pos.line}:${r.el.pos.col}`;
    const blocked = (ctx: RequestContext, f: Finding, what: 'request' | 'response'): GatewayError => {
      logger.info({ requestId: ctx.requestId, policy: name, at, finding: findingLabel(f), ...(f.kind === 'category' && { severity: f.severity }) }, `content safety blocked the ${what}`);
      return new GatewayError('GW_ERR_CONTENT_BLOCKED', `The ${what} was blocked by content safety: ${describeFinding(f)}.`);
    };
    /** The service could not answer: the fail mode decides (true: go on unchecked). */
    const unavailable = (ctx: RequestContext, err: ContentSafetyUnavailable): true => {
      logger.warn({ requestId: ctx.requestId, policy: name, at, reason: err.message, failMode }, failMode === 'open' ? 'content safety unavailable; fail-mode open lets the request through unchecked' : 'content safety unavailable; fail-mode closed refuses the request');
      if (failMode === 'closed') throw new GatewayError('GW_ERR_CONTENT_SAFETY_UNAVAILABLE', 'Content safety could not check the request: the service is unavailable. Try again later.');
      return true;
    };
    const completion = (ctx: RequestContext): CompletionCheck => ({
      engine,
      rules: rulesFor(ctx),
      windowSize: windowSize?.(ctx),
      overlap: overlapSize?.(ctx) ?? DEFAULT_OVERLAP,
      blocked: (f) => blocked(ctx, f, 'response'),
      unavailable: (err) => unavailable(ctx, err),
    });
    // Two rule sets, made once: only shield-prompt can change per request (an expression).
    const withShield: Rules = { thresholds, outputType, blocklists, shieldPrompt: true };
    const withoutShield: Rules = { ...withShield, shieldPrompt: false };
    const rulesFor = (ctx: RequestContext): Rules => (shield(ctx) ? withShield : withoutShield);
    if (scope.section === 'outbound') {
      // In outbound the policy checks the answer (APIM: enforce-on-completions is ignored there).
      return { name, run: (ctx) => (ctx.lastError === null && !ctx.preflight ? checkCompletion(ctx, completion(ctx)) : undefined) };
    }
    /**
     * The prompt's pieces, redacted first when the local engine redacts (the check then sees the
     * redacted text: `replace` updated the parts and the JSON, so they are not collected again).
     * The backend gets the body the checks saw: re-serialised when redacted, or when the client's
     * bytes may hold a repeated key the parse dropped (../shared/parsed-body.ts).
     */
    const promptPieces = (ctx: RequestContext, json: Record<string, unknown>): readonly TextPiece[] => {
      const parts = promptParts(json);
      if (local !== undefined && local.redact(parts) > 0) sendParsedBody(ctx, json);
      else sendWhatWasRead(ctx, json);
      return parts;
    };
    const checked = (ctx: RequestContext, finding: Finding | null): void => {
      if (finding !== null) throw blocked(ctx, finding, 'request');
      if (onCompletions(ctx)) (ctx.responseChecks ??= []).push((c) => checkCompletion(c, completion(c)));
    };
    const applies = (ctx: RequestContext): Record<string, unknown> | null => {
      const json = ctx.request.json;
      const usage = ctx.metering?.usage;
      return ctx.preflight || json === null || (usage !== 'chat' && usage !== 'completions' && usage !== 'responses') ? null : json;
    };
    if (local !== undefined) {
      // The local engine answers synchronously: the policy does too, so the pipeline awaits
      // nothing for it (no promise, no microtask per request).
      return {
        name,
        run(ctx) {
          const json = applies(ctx);
          if (json !== null) checked(ctx, local.checkPromptNow(promptPieces(ctx, json), rulesFor(ctx)));
        },
      };
    }
    return {
      name,
      async run(ctx) {
        const json = applies(ctx);
        if (json === null) return;
        const pieces = promptPieces(ctx, json);
        let finding: Finding | null = null;
        try {
          finding = await engine.checkPrompt(pieces, rulesFor(ctx), ctx.signal);
        } catch (err) {
          if (!(err instanceof ContentSafetyUnavailable)) throw err;
          unavailable(ctx, err);
        }
        checked(ctx, finding);
      },
    };
  },
};

/** What the local engine cannot do is a load error, not a silently weaker check. */
function checkLocal(r: ElementReader, local: LocalEngine, thresholds: ReadonlyMap<Category, number>, blocklists: readonly string[]): void {
  if (thresholds.size > 0) throw r.fail(null, 'names a local engine, which does not classify harm categories (Hate, SelfHarm, Sexual, Violence): name an Azure AI Content Safety backend for <categories>');
  for (const b of blocklists) if (!local.hasBlocklist(b)) throw r.fail(null, `names blocklist "${b}", which the local engine does not define (contentSafety.engines.<id>.blocklists)`);
}
