/**
 * @module
 * The URL shapes the simulator answers, covering how OpenAI and Azure OpenAI clients (and a
 * gateway rewriting between them) address a backend. `?api-version=` and any other query are
 * accepted and ignored.
 */

export type Operation = 'chat' | 'completions' | 'embeddings' | 'models';

export interface RouteMatch {
  operation: Operation;
  /** Azure deployment id from the path; when absent the body's `model` names the deployment. */
  deployment: string | undefined;
}

const OPERATION_SUFFIXES: readonly (readonly [string, Operation])[] = [
  ['/chat/completions', 'chat'],
  ['/completions', 'completions'],
  ['/embeddings', 'embeddings'],
];

// Prefixes in front of the OpenAI paths: `/v1`, Azure's v1 surface `/openai/v1`, and none.
const OPENAI_PREFIXES = ['/openai/v1', '/v1', ''];
const MODEL_LIST_PATHS = new Set(['/v1/models', '/openai/v1/models', '/openai/models', '/models']);
const DEPLOYMENT_PATH = /^\/openai\/deployments\/([^/]+)(\/.*)$/;

function matchOperation(rest: string): Operation | undefined {
  for (const [suffix, operation] of OPERATION_SUFFIXES) {
    if (rest === suffix) return operation;
  }
  return undefined;
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Maps a method and pathname (query already removed) to an operation; `undefined` means 404.
 *
 * @example
 * matchRoute('POST', '/openai/deployments/gpt-4o/chat/completions');
 * // { operation: 'chat', deployment: 'gpt-4o' }
 */
export function matchRoute(method: string, pathname: string): RouteMatch | undefined {
  const path = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  if (method === 'GET') {
    return MODEL_LIST_PATHS.has(path) ? { operation: 'models', deployment: undefined } : undefined;
  }
  if (method !== 'POST') return undefined;

  const deploymentMatch = DEPLOYMENT_PATH.exec(path);
  if (deploymentMatch !== null) {
    const deployment = decodeSegment(deploymentMatch[1] ?? '');
    const operation = matchOperation(deploymentMatch[2] ?? '');
    if (deployment === undefined || deployment === '' || operation === undefined) return undefined;
    return { operation, deployment };
  }
  for (const prefix of OPENAI_PREFIXES) {
    if (!path.startsWith(prefix)) continue;
    const operation = matchOperation(path.slice(prefix.length));
    if (operation !== undefined) return { operation, deployment: undefined };
  }
  return undefined;
}
