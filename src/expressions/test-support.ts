/**
 * Helpers for the expression tests: a realistic RequestContext (an Azure OpenAI chat request with
 * a subscription, matched route parameters and a JSON body) and one-line compile+evaluate.
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';
import { RequestContext } from '../core/context.ts';
import { type EvaluateOptions, compileExpression, toCSharpString } from './index.ts';

/** 2025-01-15T13:45:12.1234375Z (a fraction a double holds exactly). */
export const FIXED_NOW = Date.UTC(2025, 0, 15, 13, 45, 12, 123) + 0.4375;

export const CHAT_BODY = {
  model: 'gpt-4o',
  stream: true,
  messages: [
    { role: 'system', content: 'You are helpful.' },
    { role: 'user', content: 'What is APIM?' },
  ],
};

export interface ContextInit {
  body?: string | null;
  headers?: IncomingHttpHeaders;
  query?: string;
  ip?: string;
  subscription?: boolean;
}

export function makeContext(init: ContextInit = {}): RequestContext {
  const body = init.body === undefined ? JSON.stringify(CHAT_BODY) : init.body;
  const ctx = new RequestContext(
    '0f8fad5b-d9cb-469f-a165-70867728950e',
    {
      method: 'POST',
      path: '/openai/deployments/gpt-4/chat/completions',
      query: init.query ?? '?api-version=2024-02-01',
      headers: init.headers ?? { host: 'gateway.local:8080', 'api-key': 'key-123', 'x-model': 'gpt-4o', 'content-type': 'application/json' },
      ip: init.ip ?? '::ffff:10.1.2.3',
      suffix: '/deployments/gpt-4/chat/completions',
      body: body === null ? null : Buffer.from(body),
      json: null,
      matchedParameters: new Map([['deployment-id', 'gpt-4']]),
    },
    performance.now(),
  );
  if (init.subscription !== false) {
    ctx.subscription = { id: 'sub-1', name: 'Team A', productId: 'starter', state: 'active' };
    ctx.productId = 'starter';
  }
  ctx.api = { id: 'azure-openai-api', name: 'Azure OpenAI', path: 'openai' };
  ctx.operation = { id: 'ChatCompletions_Create', name: 'Creates a completion', method: 'POST', urlTemplate: '/deployments/{deployment-id}/chat/completions' };
  return ctx;
}

const POS = { file: 'policy.xml', line: 1, col: 1 };

/** Compiles and evaluates `src` with a fixed clock. */
export function run(src: string, ctx: RequestContext = makeContext(), opts: EvaluateOptions = {}): unknown {
  return compileExpression(src, POS).evaluate(ctx, { now: () => FIXED_NOW, ...opts });
}

/** `run`, then C#'s ToString() of the result. */
export function runStr(src: string, ctx?: RequestContext, opts?: EvaluateOptions): string {
  return toCSharpString(run(src, ctx, opts));
}
