/**
 * @module
 * The simulator's HTTP server. Order of a request, and so which failure wins:
 * read body (413) -> record -> [`/_sim/fault`: key (401) -> control] -> `x-sim-*` headers (400)
 * -> `reset`/`hang` -> key (401) -> route (404) -> JSON (400) -> validation (400) -> standing fault
 * (replaced by the request's `x-sim-fail`) -> latency -> standing `reset`/`hang` -> injected status
 * / `failRate` (5xx) -> TPM/RPM admission (429) -> reply. Injected failures come before admission
 * so they never use quota. The standing fault comes after the key and body checks so a broken
 * backend still refuses bad keys and bad requests the way a real one would.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { readControls } from './controls.ts';
import type { Fault, RequestControls } from './controls.ts';
import { SimulatorHttpError } from './errors.ts';
import { handleFaultControl, isFaultControlPath } from './fault-control.ts';
import { sendJson, sleep, waitForAbort } from './exchange.ts';
import type { Exchange } from './exchange.ts';
import { createRateLimiter } from './limits.ts';
import type { RateLimiter } from './limits.ts';
import { createPrng } from './random.ts';
import { matchRoute } from './routes.ts';
import { answerContentSafety, isContentSafetyPath } from './content-safety.ts';
import { answerLanguage, LANGUAGE_PATH } from './language-pii.ts';
import type { RouteMatch } from './routes.ts';
import { resolveOptions } from './options.ts';
import type { RecordedRequest, ResolvedOptions, RunningSimulator, SimulatorOptions, SimulatorStats } from './options.ts';
import { planReply, sendReply } from './replies.ts';
import { SimIdentity } from './identity.ts';
import { createFaultSwitch, parseStandingFault } from './standing-fault.ts';
import type { FaultSwitch } from './standing-fault.ts';

const MAX_RECORDED_REQUESTS = 100;
const MAX_PATH_KEYS = 1000;
const NO_FAULT: Fault = { kind: 'none' };

interface ServerState {
  config: ResolvedOptions;
  stats: SimulatorStats;
  requests: RecordedRequest[];
  limiter: RateLimiter;
  nextFailureDraw: () => number;
  faults: FaultSwitch;
  shutdown: AbortSignal;
  identity: SimIdentity;
}

type BodyResult = { kind: 'ok'; bytes: Buffer } | { kind: 'too-large' } | { kind: 'aborted' };

async function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > maxBytes) return { kind: 'too-large' };
      chunks.push(buffer);
    }
  } catch {
    return { kind: 'aborted' };
  }
  return { kind: 'ok', bytes: Buffer.concat(chunks) };
}

function parseJson(bytes: Buffer): { ok: true; value: unknown } | { ok: false } {
  if (bytes.length === 0) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(bytes.toString('utf8')) as unknown };
  } catch {
    return { ok: false };
  }
}

function record(state: ServerState, req: IncomingMessage, path: string, body: unknown): void {
  const { stats, requests } = state;
  stats.requests++;
  const key = Object.hasOwn(stats.byPath, path) || Object.keys(stats.byPath).length < MAX_PATH_KEYS ? path : '(other)';
  stats.byPath[key] = (stats.byPath[key] ?? 0) + 1;
  requests.push({ method: req.method ?? 'GET', path, url: req.url ?? path, headers: { ...req.headers }, body });
  if (requests.length > MAX_RECORDED_REQUESTS) requests.shift();
}

function presentedKey(req: IncomingMessage): string | undefined {
  // Azure AI Content Safety (and other Cognitive Services) take the key as Ocp-Apim-Subscription-Key.
  const apiKey = req.headers['api-key'] ?? req.headers['ocp-apim-subscription-key'];
  if (typeof apiKey === 'string') return apiKey;
  const authorization = req.headers.authorization;
  const bearer = authorization === undefined ? null : /^Bearer\s+(.+)$/i.exec(authorization);
  return bearer?.[1]?.trim();
}

function checkKey(state: ServerState, req: IncomingMessage, entra = state.config.requireEntra): void {
  const config = state.config;
  if (entra) return state.identity.checkBearer(req.headers);
  if (config.requireKey === undefined || presentedKey(req) === config.requireKey) return;
  // Like Azure OpenAI, a resource with a key also takes an Entra ID token (one issued here).
  if (state.identity.acceptsBearer(req.headers)) return;
  throw new SimulatorHttpError(
    401,
    'Access denied due to invalid subscription key or wrong API endpoint. Send a valid key in the api-key header or as Authorization: Bearer.',
    { code: 'invalid_api_key' },
  );
}

function injectedFailure(state: ServerState, controls: RequestControls, standing: boolean): SimulatorHttpError | undefined {
  const { fault } = controls;
  if (fault.kind === 'status') {
    const headers: Record<string, string> = {};
    if (fault.retryAfterSeconds !== undefined) {
      headers['retry-after'] = String(fault.retryAfterSeconds);
      headers['retry-after-ms'] = String(fault.retryAfterSeconds * 1000);
    }
    const source = standing ? 'standing fault' : 'x-sim-fail:';
    return new SimulatorHttpError(fault.status, `Simulated failure (${source} ${fault.status})`, { headers });
  }
  if (state.config.failRate > 0 && state.nextFailureDraw() < state.config.failRate) {
    return new SimulatorHttpError(500, `Simulated failure (failRate ${state.config.failRate})`);
  }
  return undefined;
}

function admit(state: ServerState, tokens: number): void {
  const result = state.limiter.admit(tokens);
  if (result.admitted) return;
  const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
  const what = result.limit === 'tokens' ? `token rate limit (TPM ${state.config.tpm})` : `request rate limit (RPM ${state.config.rpm})`;
  throw new SimulatorHttpError(
    429,
    `Requests to simulator '${state.config.name}' have exceeded the ${what}. Please retry after ${seconds} seconds.`,
    { headers: { 'retry-after': String(seconds), 'retry-after-ms': String(Math.ceil(result.retryAfterMs)) } },
  );
}

/**
 * The standing fault (unless the request brought its own), latency, a standing reset or hang, and
 * an injected status. Undefined when the request is over (socket reset, hung until the client
 * left, or the client left during the latency); throws the injected failure.
 */
async function applyFaults(state: ServerState, exchange: Exchange, requestControls: RequestControls): Promise<RequestControls | undefined> {
  const { controls, standing } = state.faults.apply(requestControls);
  if (!(await sleep(controls.latencyMs ?? state.config.latencyMs, exchange.signal))) return undefined;
  if (standing) {
    state.stats.faulted++;
    if (controls.fault.kind === 'reset') {
      exchange.destroySocket('reset');
      return undefined;
    }
    if (controls.fault.kind === 'hang') {
      await waitForAbort(exchange.signal);
      return undefined;
    }
  }
  const failure = injectedFailure(state, controls, standing);
  if (failure !== undefined) throw failure;
  return controls;
}

async function handle(state: ServerState, exchange: Exchange): Promise<void> {
  const { req, res } = exchange;
  const bodyResult = await readBody(req, state.config.maxBodyBytes);
  if (bodyResult.kind === 'aborted') return;
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  const parsed = bodyResult.kind === 'ok' ? parseJson(bodyResult.bytes) : { ok: false as const };
  record(state, req, path, parsed.ok ? parsed.value : undefined);
  if (bodyResult.kind === 'too-large') {
    res.setHeader('connection', 'close');
    throw new SimulatorHttpError(413, `Request body exceeds ${state.config.maxBodyBytes} bytes`);
  }
  // The identity endpoints are the "other side" of the gateway's identity features: no key, no faults.
  const identity = state.identity.route(req.method ?? 'GET', path, new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1)), req.headers, bodyResult.bytes);
  if (identity !== undefined) return sendJson(exchange, identity.status, identity.body, NO_FAULT);
  // Before the x-sim-* headers: the switch that clears a fault must not itself be faultable.
  if (isFaultControlPath(path)) {
    // The switch is for the operator, not for a gateway's identity: only a key guards it.
    checkKey(state, req, false);
    return handleFaultControl(exchange, state.faults, parsed);
  }

  const requestControls = readControls(req.headers);
  if (requestControls.fault.kind === 'reset') return exchange.destroySocket('reset');
  if (requestControls.fault.kind === 'hang') return waitForAbort(exchange.signal);
  checkKey(state, req);
  const method = req.method ?? 'GET';
  if (method === 'POST' && isContentSafetyPath(path)) {
    // The same faults as the model routes, so "content safety down" can be simulated.
    if ((await applyFaults(state, exchange, requestControls)) === undefined) return;
    const answer = answerContentSafety(state.config.contentSafety, path, new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1)), parsed.ok ? parsed.value : undefined);
    return sendJson(exchange, answer.status, answer.body, NO_FAULT);
  }
  if (method === 'POST' && path === LANGUAGE_PATH) {
    if ((await applyFaults(state, exchange, requestControls)) === undefined) return;
    const answer = answerLanguage(new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1)), parsed.ok ? parsed.value : undefined);
    return sendJson(exchange, answer.status, answer.body, NO_FAULT);
  }
  const route: RouteMatch | undefined = matchRoute(method, path);
  if (route === undefined) {
    throw new SimulatorHttpError(404, `Invalid URL (${method} ${path})`, { code: null });
  }
  let body: Record<string, unknown> = {};
  if (route.operation !== 'models') {
    if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
      throw new SimulatorHttpError(400, 'We could not parse the JSON body of your request. The body must be a JSON object.', {
        code: 'invalid_json',
      });
    }
    body = parsed.value as Record<string, unknown>;
  }
  const reply = planReply(route, body, state.config, requestControls);
  const controls = await applyFaults(state, exchange, requestControls);
  if (controls === undefined) return;
  if (reply.admissionTokens !== undefined) admit(state, reply.admissionTokens);
  await sendReply(exchange, reply, state.config, controls);
}

function renderError(exchange: Exchange, error: unknown): Promise<void> {
  const httpError =
    error instanceof SimulatorHttpError ? error : new SimulatorHttpError(500, 'Simulator internal error', { code: 'internal_error' });
  if (exchange.res.headersSent) {
    exchange.destroySocket('cut');
    return Promise.resolve();
  }
  return sendJson(exchange, httpError.status, httpError.toBody(), NO_FAULT, httpError.headers);
}

function createExchange(state: ServerState, req: IncomingMessage, res: ServerResponse): Exchange {
  const { stats, config } = state;
  const ended = new AbortController();
  let deliberateClose = false;
  const requestId = randomUUID();
  stats.inFlight++;
  res.once('close', function responseClosed() {
    stats.inFlight--;
    if (!res.writableFinished && !deliberateClose && !state.shutdown.aborted) stats.clientAborts++;
    ended.abort();
  });
  return {
    req,
    res,
    signal: AbortSignal.any([ended.signal, state.shutdown]),
    commonHeaders: () => ({
      'x-request-id': requestId,
      'apim-request-id': requestId,
      'x-ms-region': config.name,
      'x-sim-name': config.name,
      ...state.limiter.headers(),
    }),
    destroySocket(mode) {
      deliberateClose = true;
      if (req.socket.destroyed) return;
      if (mode === 'reset') req.socket.resetAndDestroy();
      // destroySoon flushes what is queued (including Node's corked writes) before closing.
      else req.socket.destroySoon();
    },
  };
}

function listen(server: ReturnType<typeof createServer>, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * Starts an OpenAI/Azure-OpenAI-compatible simulator on `host:port` (default 127.0.0.1, a free
 * port).
 *
 * @example
 * const sim = await startSimulator({ name: 'east', tpm: 10_000 });
 * const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'x' });
 * await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
 * await sim.close();
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const config = resolveOptions(options);
  const shutdown = new AbortController();
  const state: ServerState = {
    config,
    stats: { requests: 0, byPath: {}, clientAborts: 0, inFlight: 0, faulted: 0 },
    requests: [],
    limiter: createRateLimiter({ tpm: config.tpm, rpm: config.rpm, now: config.now }),
    nextFailureDraw: createPrng(config.seed ^ 0x5eed),
    faults: createFaultSwitch(config.seed, config.fault),
    shutdown: shutdown.signal,
    identity: new SimIdentity(config.identity, () => baseUrl, config.now),
  };
  let baseUrl = '';
  const server = createServer(function onRequest(req, res) {
    const exchange = createExchange(state, req, res);
    handle(state, exchange)
      .catch((error: unknown) => renderError(exchange, error))
      // Rendering can only fail on a socket that is already gone; nothing is left to tell.
      .catch(() => exchange.destroySocket('reset'));
  });
  const address = await listen(server, config.port, config.host);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  baseUrl = `http://${host}:${address.port}`;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    name: config.name,
    stats: state.stats,
    requests: state.requests,
    setFault(spec, opts) {
      state.faults.set(parseStandingFault(spec, opts));
    },
    getFault: () => state.faults.view(),
    identity: state.identity.view(),
    close() {
      closing ??= new Promise((resolve) => {
        shutdown.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
