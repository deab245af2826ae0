/**
 * The one client for requests that policies make on their own (`send-request`): it resolves the
 * host, refuses private, loopback, link-local and other internal addresses unless the
 * configuration allows them, and connects to the address it validated (no DNS-rebinding window).
 * Redirects are not followed. Later users (OpenAPI import, MCP tools) go through it too.
 * @module
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import { GatewayError } from '../core/errors.ts';

export interface OutboundPolicy {
  /** Allow private, loopback and link-local targets (tests, on-premises backends). */
  readonly allowPrivateNetworks: boolean;
  /** Host names always allowed whatever they resolve to (exact, lower-case). */
  readonly allowedHosts: readonly string[];
}

/** Ranges a request from inside the gateway must not reach by default (RFC 6890 special-purpose). */
function internalRanges(): BlockList {
  const b = new BlockList();
  for (const [net, prefix] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ] as const) {
    b.addSubnet(net, prefix, 'ipv4');
  }
  for (const [net, prefix] of [
    ['::', 128],
    ['::1', 128],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
    ['64:ff9b::', 96],
  ] as const) {
    b.addSubnet(net, prefix, 'ipv6');
  }
  return b;
}

const INTERNAL = internalRanges();

/** True when `address` is internal; IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is judged as its IPv4. */
export function isInternalAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return INTERNAL.check(mapped[1] as string, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return INTERNAL.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class OutboundClient {
  readonly #policy: OutboundPolicy;
  readonly dispatcher: Dispatcher;

  constructor(policy: OutboundPolicy) {
    this.#policy = policy;
    const guarded: LookupFunction = (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
        if (err) return callback(err, '', 0);
        const allowed = this.#policy.allowPrivateNetworks || this.#policy.allowedHosts.includes(hostname.toLowerCase());
        const usable = allowed ? addresses : addresses.filter((a) => !isInternalAddress(a.address));
        const first = usable[0];
        if (first === undefined) {
          const e = new Error(`refused: ${hostname} resolves only to internal addresses`) as NodeJS.ErrnoException;
          e.code = 'ERR_TOLLGATE_FORBIDDEN_TARGET';
          return callback(e, '', 0);
        }
        // Connect to the address just validated; `all` callers get only usable ones.
        if ((options as { all?: boolean }).all === true) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, usable);
        else callback(null, first.address, first.family);
      });
    };
    this.dispatcher = new Agent({ connect: { lookup: guarded, timeout: 5000 }, keepAliveTimeout: 4000, connections: 64 });
  }

  /** Checks a URL before sending: scheme, and a literal IP host against the policy. */
  check(url: URL): void {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new GatewayError('GW_ERR_SEND_REQUEST_FORBIDDEN_TARGET', `send-request: only http and https URLs are allowed, not ${url.protocol}`);
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0 && !this.#policy.allowPrivateNetworks && isInternalAddress(host)) {
      throw new GatewayError('GW_ERR_SEND_REQUEST_FORBIDDEN_TARGET', 'send-request: the target address is internal and outbound.allowPrivateNetworks is off.');
    }
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}
