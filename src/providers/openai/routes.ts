/**
 * The OpenAI / Azure OpenAI API surface as one table (STYLE §6.7: one spec per surface, no
 * copy-pasted handlers). Both URL families resolve to the same operations:
 *   /deployments/{deployment-id}/chat/completions?api-version=…   (Azure; deployment in the path)
 *   /v1/chat/completions                                          (OpenAI; deployment = body.model)
 * Operation ids are the ones APIM's import of the Azure OpenAI spec produces.
 * @module
 */
import type { OperationInfo } from '../../core/context.ts';

/** What the gateway needs to know about an operation to route, meter and stream it. */
export interface OperationSpec {
  readonly id: string;
  readonly method: 'GET' | 'POST';
  /** Path below `/deployments/{id}` or `/v1`. */
  readonly path: string;
  /** The body is JSON the gateway parses (for model, stream flag and usage injection). */
  readonly jsonBody: boolean;
  /** Which usage shape the response carries. */
  readonly usage: 'chat' | 'completions' | 'embeddings' | 'responses' | 'none';
  /** A stream of this operation ends with `data: [DONE]`; ending without it means it was cut. */
  readonly sseEndsWithDone: boolean;
}

const OPERATIONS: readonly OperationSpec[] = [
  { id: 'ChatCompletions_Create', method: 'POST', path: 'chat/completions', jsonBody: true, usage: 'chat', sseEndsWithDone: true },
  { id: 'Completions_Create', method: 'POST', path: 'completions', jsonBody: true, usage: 'completions', sseEndsWithDone: true },
  { id: 'embeddings_create', method: 'POST', path: 'embeddings', jsonBody: true, usage: 'embeddings', sseEndsWithDone: false },
  { id: 'Responses_Create', method: 'POST', path: 'responses', jsonBody: true, usage: 'responses', sseEndsWithDone: false },
  { id: 'ImageGenerations_Create', method: 'POST', path: 'images/generations', jsonBody: true, usage: 'none', sseEndsWithDone: false },
  { id: 'Transcriptions_Create', method: 'POST', path: 'audio/transcriptions', jsonBody: false, usage: 'none', sseEndsWithDone: false },
  { id: 'Translations_Create', method: 'POST', path: 'audio/translations', jsonBody: false, usage: 'none', sseEndsWithDone: false },
  { id: 'Models_List', method: 'GET', path: 'models', jsonBody: false, usage: 'none', sseEndsWithDone: false },
];

const BY_PATH = new Map(OPERATIONS.map((op) => [op.path, op]));

/** Operation ids an openai-type API has (for operation-scope policies). */
export const OPENAI_OPERATION_IDS: ReadonlySet<string> = new Set([...OPERATIONS.map((o) => o.id), 'Passthrough']);

/** Operations the table does not know are still forwarded, unmetered, under this id. */
const PASSTHROUGH: Omit<OperationSpec, 'method'> = { id: 'Passthrough', path: '*', jsonBody: false, usage: 'none', sseEndsWithDone: false };

export interface OpenAiRoute {
  readonly spec: OperationSpec | (Omit<OperationSpec, 'method'> & { method: string });
  readonly operation: OperationInfo;
  /** From the path (Azure style); null for /v1 routes, where the body names the model. */
  readonly deployment: string | null;
  readonly family: 'azure' | 'v1';
}

export type RouteMatch = { readonly ok: true; readonly route: OpenAiRoute } | { readonly ok: false; readonly reason: 'not-found' | 'method' };

// Deployment ids: Azure allows letters, digits, '-', '_', '.'; anything else (%2F, '..') is not a deployment.
const DOT_OR_EMPTY_SEGMENT = /\/\/|\/\.\.?(\/|$)/;
const DEPLOYMENT_RE = /^\/deployments\/([A-Za-z0-9][A-Za-z0-9._-]{0,127})\/(.+)$/;

/**
 * The answers for the OpenAI surface's own paths (`/v1/chat/completions` with its method), made
 * once: most requests take one of them, and building the route, its operation and its template
 * string per request was work whose result never changes. Frozen: every request shares them.
 */
const V1_ROUTES: ReadonlyMap<string, RouteMatch> = new Map(
  OPERATIONS.map((spec) => [
    `/v1/${spec.path}`,
    Object.freeze({
      ok: true,
      route: Object.freeze({
        spec,
        deployment: null,
        family: 'v1',
        operation: Object.freeze({ id: spec.id, name: spec.id, method: spec.method, urlTemplate: `/v1/${spec.path}` }),
      }),
    } as const),
  ]),
);

/** Resolves a path below an openai-type API's mount point to an operation. */
export function matchOpenAiRoute(method: string, suffix: string): RouteMatch {
  const known = V1_ROUTES.get(suffix);
  if (known !== undefined && known.ok && known.route.spec.method === method) return known;
  // Dot segments and empty segments could name one operation two ways (and dodge metering or the
  // deployment check when a backend normalises them); they are never valid here.
  if (DOT_OR_EMPTY_SEGMENT.test(suffix)) return { ok: false, reason: 'not-found' };
  let family: 'azure' | 'v1';
  let deployment: string | null = null;
  let opPath: string;
  const m = DEPLOYMENT_RE.exec(suffix);
  if (m) {
    family = 'azure';
    deployment = m[1] ?? null;
    opPath = m[2] ?? '';
  } else if (suffix.startsWith('/v1/')) {
    family = 'v1';
    opPath = suffix.slice(4);
  } else if (suffix === '/models') {
    // Azure's control-plane-free model listing: /openai/models?api-version=…
    family = 'azure';
    opPath = 'models';
  } else {
    return { ok: false, reason: 'not-found' };
  }
  if (opPath === '') return { ok: false, reason: 'not-found' };
  const spec = BY_PATH.get(opPath);
  if (spec !== undefined && spec.method !== method) {
    // Responses: GET /v1/responses/{id} etc. are other operations; only exact paths are strict.
    return { ok: false, reason: 'method' };
  }
  const chosen = spec ?? { ...PASSTHROUGH, method };
  const template = deployment !== null ? `/deployments/{deployment-id}/${chosen.path}` : family === 'azure' ? `/${chosen.path}` : `/v1/${chosen.path}`;
  return {
    ok: true,
    route: {
      spec: chosen,
      deployment,
      family,
      operation: { id: chosen.id, name: chosen.id, method, urlTemplate: template },
    },
  };
}
