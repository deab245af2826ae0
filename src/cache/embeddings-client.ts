/**
 * The semantic cache's one embeddings call per lookup: POST `{"input": text}` to the configured
 * embeddings backend, whose URL is the embeddings deployment itself (as APIM requires:
 * `https://<resource>.openai.azure.com/openai/deployments/<deployment>/embeddings`). The call is
 * authenticated like any backend request, through one pluggable function (`CredentialsFor`), so
 * managed identity plugs in where the configured `credentials` are used today. It goes through
 * the backend's pool and circuit breaker, is bounded in time and size, and every failure is an
 * `EmbeddingsError`, which the lookup turns into a miss (never an error for the client).
 * @module
 */
import { endianness } from 'node:os';
import type { BackendPool } from '../upstream/pool.ts';
import { normaliseUsage } from '../core/usage.ts';
import { postJson, type CredentialsFor } from '../upstream/side-call.ts';

export { configuredCredentials, type CredentialsFor } from '../upstream/side-call.ts';

/** Azure OpenAI's token audience, the one APIM uses for `embeddings-backend-auth="system-assigned"`. */
const COGNITIVE_SERVICES = 'https://cognitiveservices.azure.com';

/**
 * `embeddings-backend-auth="system-assigned"`: the gateway's system-assigned managed identity
 * instead of the backend's key (as in APIM); the token comes from the same cache as
 * `authentication-managed-identity`'s.
 */
export function systemAssignedCredentials(identity: { managedIdentityToken(resource: string): Promise<string> }): CredentialsFor {
  return async (backend) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(backend.credentialHeaders)) if (name !== 'api-key' && name !== 'authorization') headers[name] = value;
    headers['authorization'] = `Bearer ${await identity.managedIdentityToken(COGNITIVE_SERVICES)}`;
    return headers;
  };
}

export class EmbeddingsError extends Error {
  override readonly name = 'EmbeddingsError';
}

export interface Embedding {
  readonly vector: Float32Array;
  /** Prompt tokens the embeddings backend reported (0 when it reported none). */
  readonly tokens: number;
  readonly backendId: string;
}

export interface EmbedOptions {
  readonly timeoutMs: number;
  readonly credentials: CredentialsFor;
  /** Wall clock for the breaker. */
  readonly clock: () => number;
  /** The request's own signal: a client that leaves stops the call. */
  readonly signal: AbortSignal;
}

/** An embeddings answer larger than this is garbage for our purpose (3,072 floats as JSON ≈ 70 KB). */
const MAX_EMBEDDINGS_BODY = 2 * 1024 * 1024;
const MAX_DIMENSIONS = 16_384;
const LITTLE_ENDIAN = endianness() === 'LE';
/** Azure's data plane refuses requests without it; APIM adds one for the embeddings backend too. */
const AZURE_API_VERSION = '2024-10-21';

export async function embed(pool: BackendPool, text: string, opts: EmbedOptions): Promise<Embedding> {
  const pathFor = (backend: { url: URL }): string => {
    const url = backend.url;
    const path = url.pathname + url.search;
    if (!url.pathname.includes('/openai/deployments/') || url.searchParams.has('api-version')) return path;
    return `${path}${url.search === '' ? '?' : '&'}api-version=${AZURE_API_VERSION}`;
  };
  let answer;
  try {
    // base64 (little-endian float32) is a quarter of the bytes of a JSON float list and decodes
    // without a JSON number parse per dimension; a backend that ignores it answers floats, also read.
    answer = await postJson(pool, pathFor, JSON.stringify({ input: text, encoding_format: 'base64' }), { ...opts, maxAnswerBytes: MAX_EMBEDDINGS_BODY, what: 'embeddings' });
  } catch (err) {
    throw new EmbeddingsError((err as Error).message);
  }
  if (answer.status !== 200) throw new EmbeddingsError(`embeddings backend "${answer.backendId}" answered ${answer.status}`);
  return { ...parseEmbedding(answer.body), backendId: answer.backendId };
}

/** OpenAI's embeddings response: `data[0].embedding` as floats or base64 little-endian float32. */
export function parseEmbedding(body: Buffer): { vector: Float32Array; tokens: number } {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new EmbeddingsError('embeddings answer is not JSON');
  }
  const root = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  const data = root['data'];
  const first = Array.isArray(data) ? (data[0] as Record<string, unknown> | undefined) : undefined;
  const raw = first?.['embedding'];
  let vector: Float32Array;
  if (Array.isArray(raw)) {
    vector = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const v: unknown = raw[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new EmbeddingsError('embedding holds a value that is not a finite number');
      vector[i] = v;
    }
  } else if (typeof raw === 'string') {
    const bytes = Buffer.from(raw, 'base64');
    if (bytes.length % 4 !== 0) throw new EmbeddingsError('base64 embedding is not whole float32 values');
    vector = new Float32Array(bytes.length / 4);
    // One byte copy on a little-endian host (every platform Node ships for); a per-value read otherwise.
    if (LITTLE_ENDIAN) new Uint8Array(vector.buffer).set(bytes);
    else for (let i = 0; i < vector.length; i++) vector[i] = bytes.readFloatLE(i * 4);
  } else {
    throw new EmbeddingsError('embeddings answer has no data[0].embedding');
  }
  if (vector.length === 0 || vector.length > MAX_DIMENSIONS) throw new EmbeddingsError(`embedding has ${vector.length} dimensions`);
  let norm = 0;
  for (const v of vector) norm += v * v;
  if (!Number.isFinite(norm) || norm === 0) throw new EmbeddingsError('embedding is the zero vector or not finite');
  return { vector, tokens: normaliseUsage(root['usage'])?.promptTokens ?? 0 };
}
