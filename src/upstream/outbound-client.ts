/**
 * The one client for requests to URLs computed at run time (`send-request`, a
 * `set-backend-service base-url` from an expression): it resolves the host, refuses private,
 * loopback, link-local and other internal addresses unless the configuration allows them, and
 * connects to the address it validated (no DNS-rebinding window); see ssrf-guard.ts. Redirects are
 * not followed. Later users (OpenAPI import, MCP tools) go through it too.
 * @module
 */
import { Agent, type Dispatcher } from 'undici';
import { GatewayError, type ErrorCode } from '../core/errors.ts';
import { checkTarget, guardedLookup, type OutboundPolicy } from './ssrf-guard.ts';

export { isInternalAddress, type OutboundPolicy } from './ssrf-guard.ts';

export class OutboundClient {
  readonly #policy: OutboundPolicy;
  readonly dispatcher: Dispatcher;

  constructor(policy: OutboundPolicy) {
    this.#policy = policy;
    this.dispatcher = new Agent({ connect: { lookup: guardedLookup(policy), timeout: 5000 }, keepAliveTimeout: 4000, connections: 64 });
  }

  /**
   * Checks a URL before sending: scheme, and a literal IP host against the policy (host names are
   * judged when the dispatcher resolves them). `what` names the caller in the error message.
   */
  check(url: URL, what = 'send-request', code: ErrorCode = 'GW_ERR_SEND_REQUEST_FORBIDDEN_TARGET'): void {
    const refusal = checkTarget(url, this.#policy);
    if (refusal !== null) throw new GatewayError(code, `${what}: ${refusal}${refusal.includes('internal') ? ' and outbound.allowPrivateNetworks is off' : ''}.`);
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}
