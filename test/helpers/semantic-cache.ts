/**
 * Shared by the semantic cache's end-to-end tests: a gateway with the seed's cache blocks in front
 * of the simulator (which also serves the embeddings), a chat call, and the chat calls counted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGateway, TEST_KEY, type TestGateway, type TestGatewayOptions } from './gateway.ts';

export const SEEDS = join(import.meta.dirname, '..', 'fixtures', 'seed-policies');
export const SEED = readFileSync(join(SEEDS, 'semantic-cache.xml'), 'utf8');
export const doc = (...sections: string[]): string => `<policies>\n${sections.join('\n')}\n</policies>`;
export const EMBEDDINGS_URL = '{{sim-url}}/openai/deployments/text-embedding-3-small/embeddings';
export const OTHER_KEY = 'tg-other-key-0123456789abcdef';

/** `responses`: cache.responses settings; the embeddings timeout is long unless a test sets it
 *  (a loaded test machine must not turn a lookup into a miss). */
export function start(opts: TestGatewayOptions & { policy?: string; responses?: Record<string, unknown> } = {}): Promise<TestGateway> {
  return startTestGateway({
    apiPolicies: opts.policy ?? doc(SEED),
    extraBackends: { 'embeddings-backend': { urlFromSim: true, url: EMBEDDINGS_URL }, ...opts.extraBackends },
    ...opts,
    config: {
      subscriptions: {
        'team-a': { product: 'starter', keys: ['{{team-key}}'] },
        'team-b': { product: 'starter', keys: [OTHER_KEY] },
      },
      cache: { responses: { embeddingsTimeoutMs: 30_000, ...opts.responses } },
      ...opts.config,
    },
  });
}

export async function chat(t: TestGateway, content: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', 'x-sim-completion-tokens': '5', ...headers },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content }], ...extra }),
  });
}

/** Chat requests the simulator received (embeddings calls are counted apart). */
export function chatCalls(t: TestGateway): number {
  return Object.entries(t.sim.stats.byPath).reduce((n, [path, count]) => (path.endsWith('/chat/completions') ? n + count : n), 0);
}
