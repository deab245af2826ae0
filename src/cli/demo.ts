/**
 * The demo that `tollgate start` runs with no config file: three simulated Azure OpenAI
 * deployments (one "PTU", two "PAYG", as in the seeds' pool), an OpenAI-style API at the root
 * (`/v1/...`), an Azure-style API at `/openai` (`/openai/deployments/{id}/...` and `/openai/v1/...`),
 * and one subscription whose key is printed.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { startSimulator, type RunningSimulator } from '../simulator/index.ts';

export const DEMO_DEPLOYMENTS = ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'];

export interface Demo {
  readonly key: string;
  readonly config: Record<string, unknown>;
  readonly simulators: RunningSimulator[];
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
      simulators.push(await startSimulator({ name: s.name, port: 0, tpm: s.tpm, tokensPerSecond: 200, models: DEMO_DEPLOYMENTS }));
    }
  } catch (err) {
    await Promise.allSettled(simulators.map((s) => s.close()));
    throw err;
  }
  const backends: Record<string, unknown> = {};
  specs.forEach((s, i) => {
    backends[s.name] = { url: `${(simulators[i] as RunningSimulator).url}/openai`, description: 'built-in simulator' };
  });
  const config = {
    gateway: { listen },
    admin: { listen: adminListen },
    namedValues: { 'demo-key': { value: key, secret: true } },
    backends,
    apis: {
      openai: { path: '', type: 'openai', backend: 'openai-ptu-eastus', deployments: DEMO_DEPLOYMENTS, displayName: 'OpenAI-style API' },
      'azure-openai': { path: 'openai', type: 'openai', backend: 'openai-ptu-eastus', deployments: DEMO_DEPLOYMENTS, displayName: 'Azure OpenAI API' },
    },
    products: { starter: { apis: ['openai', 'azure-openai'] } },
    subscriptions: { demo: { product: 'starter', keys: ['{{demo-key}}'] } },
  };
  return { key, config, simulators };
}
