/**
 * The demo that `tollgate start` runs with no config file: three simulated Azure OpenAI
 * deployments (one "PTU", two "PAYG") in the seeds' pool with circuit breakers and the failover
 * retry, an OpenAI-style API at the root
 * (`/v1/...`), an Azure-style API at `/openai` (`/openai/deployments/{id}/...` and `/openai/v1/...`),
 * and one subscription whose key is printed. A `content-safety` backend (the simulated Azure AI
 * Content Safety) and a `local-guard` engine are there for `llm-content-safety`. The simulators require Entra ID tokens, which the
 * gateway gets with a managed identity the first simulator plays (docs/identity.md).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { startSimulator, type RunningSimulator } from '../simulator/index.ts';

export const DEMO_DEPLOYMENTS = ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'];

const DEMO_BREAKER = {
  rules: [
    {
      name: 'openai-circuit-breaker',
      failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: [{ min: 429, max: 429 }, { min: 500, max: 599 }] },
      tripDuration: 'PT1M',
      acceptRetryAfter: true,
    },
  ],
};

const DEMO_POLICY = `<policies>
  <inbound />
  <backend>
    <retry condition="@(context.Response.StatusCode == 429 || context.Response.StatusCode >= 500)" count="2" interval="0" first-fast-retry="true">
      <forward-request buffer-request-body="true" />
    </retry>
  </backend>
  <outbound />
  <on-error />
</policies>`;

/**
 * The demo's ledger: `TOLLGATE_DEMO_LEDGER` (a file, or `off`), else `.tollgate/demo-ledger.sqlite`
 * in the working directory, where `tollgate usage` without --config looks too.
 */
export function demoLedgerPath(env: NodeJS.ProcessEnv): string {
  const v = env['TOLLGATE_DEMO_LEDGER'];
  return resolve(v === undefined || v === '' ? '.tollgate/demo-ledger.sqlite' : v);
}

export interface Demo {
  readonly key: string;
  readonly config: Record<string, unknown>;
  readonly simulators: RunningSimulator[];
  /** The demo's SQLite ledger, or null with TOLLGATE_DEMO_LEDGER=off. */
  readonly ledgerPath: string | null;
}

export async function startDemo(env: NodeJS.ProcessEnv, listen: string, adminListen: string): Promise<Demo> {
  const key = env['TOLLGATE_DEMO_KEY'] ?? `tg-demo-${randomBytes(18).toString('base64url')}`;
  const specs = [
    { name: 'openai-ptu-eastus', tpm: 200_000 },
    { name: 'openai-payg-westus', tpm: 1_000_000 },
    { name: 'openai-payg-northeu', tpm: 1_000_000 },
  ];
  const simulators: RunningSimulator[] = [];
  try {
    for (const s of specs) {
      simulators.push(await startSimulator({ name: s.name, port: 0, tpm: s.tpm, tokensPerSecond: 200, models: DEMO_DEPLOYMENTS, requireEntra: true }));
    }
  } catch (err) {
    await Promise.allSettled(simulators.map((s) => s.close()));
    throw err;
  }
  // Like Azure OpenAI resources with key access disabled, the simulators take only Entra ID
  // tokens, and the gateway gets them with its managed identity, played by the first simulator
  // (the App Service protocol, found through the same variables the Azure SDK reads).
  const idp = (simulators[0] as RunningSimulator).identity;
  env['IDENTITY_ENDPOINT'] = idp.identityEndpoint;
  env['IDENTITY_HEADER'] = idp.identityHeader;
  const credentials = { managedIdentity: { resource: 'https://cognitiveservices.azure.com' } };
  const backends: Record<string, unknown> = {};
  specs.forEach((s, i) => {
    backends[s.name] = { url: `${(simulators[i] as RunningSimulator).url}/openai`, description: 'built-in simulator', credentials, circuitBreaker: DEMO_BREAKER };
  });
  // The seeds' pool: PTU first, PAYG 3:1 when the PTU's circuit is open.
  backends['openai-backend-pool'] = {
    type: 'Pool',
    pool: {
      services: [
        { id: 'openai-ptu-eastus', priority: 1, weight: 1 },
        { id: 'openai-payg-westus', priority: 2, weight: 3 },
        { id: 'openai-payg-northeu', priority: 2, weight: 1 },
      ],
    },
  };
  // The seeds' semantic cache names `embeddings-backend`: the first simulator serves embeddings
  // (its built-in embedder), so the seed's lookup/store blocks work here as pasted.
  backends['embeddings-backend'] = {
    url: `${(simulators[0] as RunningSimulator).url}/openai/deployments/text-embedding-3-small/embeddings`,
    description: 'built-in simulator embeddings (for llm-semantic-cache-lookup)',
  };
  // Content safety for `llm-content-safety backend-id="content-safety"`: the first simulator also
  // plays Azure AI Content Safety (same managed identity); `local-guard` is the built-in engine.
  backends['content-safety'] = {
    url: (simulators[0] as RunningSimulator).url,
    description: 'built-in simulator content safety (for llm-content-safety)',
    credentials,
  };
  const config = {
    gateway: { listen },
    contentSafety: { engines: { 'local-guard': { type: 'local' } } },
    admin: { listen: adminListen },
    namedValues: { 'demo-key': { value: key, secret: true } },
    backends,
    apis: {
      openai: { path: '', type: 'openai', backend: 'openai-backend-pool', deployments: DEMO_DEPLOYMENTS, displayName: 'OpenAI-style API' },
      'azure-openai': { path: 'openai', type: 'openai', backend: 'openai-backend-pool', deployments: DEMO_DEPLOYMENTS, displayName: 'Azure OpenAI API' },
    },
    // The failover idiom of Microsoft's AI gateway labs: a 429 or 5xx is retried at once on another member.
    policies: DEMO_POLICY,
    products: { starter: { apis: ['openai', 'azure-openai'] } },
    subscriptions: { demo: { product: 'starter', keys: ['{{demo-key}}'] } },
    // Every request's usage and cost, durably (`tollgate usage`, the admin /usage).
    ledger: env['TOLLGATE_DEMO_LEDGER'] === 'off' ? { store: 'off' } : { store: 'sqlite', path: demoLedgerPath(env) },
  };
  return { key, config, simulators, ledgerPath: env['TOLLGATE_DEMO_LEDGER'] === 'off' ? null : demoLedgerPath(env) };
}
