/**
 * @module
 * What each operation answers. Planning (validation, token counts) is separate from sending so
 * the server can charge the rate limiter with the exact cost before any byte goes out.
 */
import type { RequestControls } from './controls.ts';
import { planCompletion } from './completion-plan.ts';
import type { CompletionPlan } from './completion-plan.ts';
import { completionBody, newResponseIdentity } from './completion-bodies.ts';
import { embeddingsBody, planEmbeddings } from './embeddings.ts';
import type { EmbeddingPlan } from './embeddings.ts';
import { sendJson } from './exchange.ts';
import type { Exchange } from './exchange.ts';
import type { ResolvedOptions } from './options.ts';
import type { RouteMatch } from './routes.ts';
import { streamCompletion } from './stream.ts';
import { generateTokens } from './vocabulary.ts';

/** A fixed `created` for listed models, so two listings compare equal. */
const MODEL_CREATED = 1_700_000_000;

export type Reply =
  | { kind: 'models'; admissionTokens: undefined }
  | { kind: 'completion'; plan: CompletionPlan; admissionTokens: number }
  | { kind: 'embeddings'; plan: EmbeddingPlan; admissionTokens: number };

/** Validates the body for `route` and fixes the reply; throws 400s. */
export function planReply(
  route: RouteMatch,
  body: Record<string, unknown>,
  config: ResolvedOptions,
  controls: RequestControls,
): Reply {
  switch (route.operation) {
    case 'models':
      return { kind: 'models', admissionTokens: undefined };
    case 'chat':
    case 'completions': {
      const plan = planCompletion(route.operation, body, route.deployment, {
        defaultCompletionTokens: config.defaultCompletionTokens,
        seed: config.seed,
        completionTokensOverride: controls.completionTokens,
      });
      return { kind: 'completion', plan, admissionTokens: plan.admissionTokens };
    }
    case 'embeddings': {
      const plan = planEmbeddings(body, route.deployment);
      return { kind: 'embeddings', plan, admissionTokens: plan.promptTokens };
    }
  }
}

function modelList(models: readonly string[]): object {
  return {
    object: 'list',
    data: models.map((id) => ({ id, object: 'model', created: MODEL_CREATED, owned_by: 'tollgate-simulator' })),
  };
}

export async function sendReply(
  exchange: Exchange,
  reply: Reply,
  config: ResolvedOptions,
  controls: RequestControls,
): Promise<void> {
  switch (reply.kind) {
    case 'models':
      return sendJson(exchange, 200, modelList(config.models), controls.fault);
    case 'embeddings':
      return sendJson(exchange, 200, embeddingsBody(reply.plan), controls.fault);
    case 'completion': {
      const { plan } = reply;
      const identity = newResponseIdentity(plan, config.now());
      const pieces = plan.choiceSeeds.map((seed) => generateTokens(seed, plan.tokensPerChoice));
      if (plan.stream) {
        await streamCompletion(exchange, plan, identity, pieces, {
          tokensPerSecond: controls.tokensPerSecond ?? config.tokensPerSecond,
          fault: controls.fault,
        });
        return;
      }
      const texts = pieces.map((tokens) => tokens.join(''));
      return sendJson(exchange, 200, completionBody(plan, identity, texts), controls.fault);
    }
  }
}
