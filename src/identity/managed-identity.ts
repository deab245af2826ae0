/**
 * Managed identity through the official `@azure/identity` package: `ManagedIdentityCredential`
 * finds the identity the way every Azure SDK does, from the environment (App Service / Container
 * Apps: IDENTITY_ENDPOINT + IDENTITY_HEADER; Azure Arc; AKS workload identity:
 * AZURE_FEDERATED_TOKEN_FILE + AZURE_CLIENT_ID + AZURE_TENANT_ID; otherwise IMDS on Azure VMs,
 * whose address AZURE_POD_IDENTITY_AUTHORITY_HOST overrides).
 *
 * The package costs ~150 ms and ~39 MB RSS to import (measured, docs/identity.md), so it is
 * imported on the first token request only: a gateway that never uses managed identity never
 * loads it.
 * @module
 */
import type { FetchedToken } from './token-cache.ts';

/** Where the environment says a managed identity comes from, or `none`. */
export type IdentitySource = 'app-service' | 'azure-arc' | 'workload-identity' | 'cloud-shell' | 'imds-override' | 'none';

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the same variables `@azure/identity` reads, to tell at load time whether an identity is there. */
export function identitySource(env: Env): IdentitySource {
  const has = (name: string): boolean => (env[name] ?? '') !== '';
  if (has('IDENTITY_ENDPOINT') && has('IMDS_ENDPOINT')) return 'azure-arc';
  if (has('IDENTITY_ENDPOINT') && has('IDENTITY_HEADER')) return 'app-service';
  if (has('AZURE_FEDERATED_TOKEN_FILE') && has('AZURE_CLIENT_ID') && has('AZURE_TENANT_ID')) return 'workload-identity';
  if (has('MSI_ENDPOINT')) return 'cloud-shell';
  if (has('AZURE_POD_IDENTITY_AUTHORITY_HOST')) return 'imds-override';
  return 'none';
}

export const NO_IDENTITY_HINT =
  'no managed identity is configured in this environment (set IDENTITY_ENDPOINT and IDENTITY_HEADER as App Service does, ' +
  'AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and AZURE_TENANT_ID for AKS workload identity, or AZURE_POD_IDENTITY_AUTHORITY_HOST for an IMDS endpoint; ' +
  'without them only the Azure VM metadata endpoint is tried, which exists only on Azure)';

/** `resource` as a scope: `https://cognitiveservices.azure.com` → `https://cognitiveservices.azure.com/.default`. */
export function scopeOf(resource: string): string {
  return resource.endsWith('/.default') ? resource : `${resource.replace(/\/+$/, '')}/.default`;
}

interface Credential {
  getToken(scope: string, options: { abortSignal: AbortSignal }): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

type IdentityModule = typeof import('@azure/identity');

export class ManagedIdentityTokens {
  #module: Promise<IdentityModule> | null = null;
  /** One credential per client id ('' = system-assigned); bounded by the distinct ids in the config. */
  readonly #credentials = new Map<string, Credential>();
  readonly #timeoutMs: number;

  constructor(timeoutMs = 10_000) {
    this.#timeoutMs = timeoutMs;
  }

  async fetch(resource: string, clientId: string | undefined): Promise<FetchedToken> {
    const credential = await this.#credential(clientId ?? '');
    let result;
    try {
      result = await credential.getToken(scopeOf(resource), { abortSignal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (err) {
      // The SDK's messages name the endpoint and the failure, never a token.
      throw new Error(`managed identity token for ${resource} failed: ${firstLine(err)}`, { cause: err });
    }
    if (result === null) throw new Error(`managed identity returned no token for ${resource}`);
    return { token: result.token, expiresAt: result.expiresOnTimestamp };
  }

  async #credential(clientId: string): Promise<Credential> {
    const existing = this.#credentials.get(clientId);
    if (existing !== undefined) return existing;
    this.#module ??= import('@azure/identity');
    const { ManagedIdentityCredential } = await this.#module;
    // One retry: the gateway's token cache already retries on the next request (after its
    // back-off), and the SDK's default of 5 retries holds a failing request ~6 s.
    const retryOptions = { maxRetries: 1, retryDelayInMs: 200 };
    const credential = clientId === '' ? new ManagedIdentityCredential({ retryOptions }) : new ManagedIdentityCredential({ clientId, retryOptions });
    if (this.#credentials.size < 100) this.#credentials.set(clientId, credential);
    return credential;
  }
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
