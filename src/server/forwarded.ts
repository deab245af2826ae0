/**
 * Forwarded identity headers (`X-Forwarded-For`, `Forwarded`, `X-Real-IP`, `X-Forwarded-Host`,
 * …) are claims a client can make up. They are believed only from the peers listed in
 * `gateway.trustedProxies`; from anyone else they are removed at ingress and `X-Forwarded-For`
 * is set from the socket, so policies (`context.Request.Headers`, `context.Request.IpAddress`,
 * `ip-filter`, `rate-limit-by-key` on the address) and the backend see the real peer.
 *
 * From a trusted proxy the headers stay, the peer is appended to `X-Forwarded-For`, and the
 * client address is the rightmost `X-Forwarded-For` entry that is not itself a trusted proxy
 * (the entries left of it could have been written by anyone).
 * @module
 */
import { BlockList, isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { parseIpRange } from '../util/ip-range.ts';

/** Removed from requests of untrusted peers: each names a client, host, scheme or URL the gateway did not see. */
export const FORWARDED_HEADERS: ReadonlySet<string> = new Set([
  'x-forwarded-for',
  'forwarded',
  'x-real-ip',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-original-url',
  'x-rewrite-url',
  'x-original-host',
  'x-client-ip',
  'true-client-ip',
  'x-cluster-client-ip',
]);

/** A `::ffff:a.b.c.d` socket address is the IPv4 peer a.b.c.d. */
export function plainIp(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export class TrustedProxies {
  readonly #list = new BlockList();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const parsed = parseIpRange(entry);
      if (parsed === undefined) throw new TypeError(`invalid trusted proxy "${entry}": expected an IP address or CIDR range`);
      this.#list.addSubnet(parsed.address, parsed.prefix, parsed.family === 4 ? 'ipv4' : 'ipv6');
    }
    this.size = entries.length;
  }

  has(address: string): boolean {
    if (this.size === 0) return false;
    const family = isIP(address);
    return family !== 0 && this.#list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/**
 * Applies the rule above to the request's headers (in place) and returns the client address
 * (`context.Request.IpAddress`).
 */
export function applyForwarded(headers: IncomingHttpHeaders, socketAddress: string, trusted: TrustedProxies): string {
  const peer = plainIp(socketAddress);
  if (!trusted.has(peer)) {
    // A request has a handful of headers: walking them beats probing every forwarded name.
    for (const name in headers) if (FORWARDED_HEADERS.has(name)) delete headers[name];
    if (peer !== '') headers['x-forwarded-for'] = peer;
    return peer;
  }
  const claimed = headers['x-forwarded-for'];
  const chain = typeof claimed === 'string' && claimed.trim() !== '' ? claimed.split(',').map((s) => s.trim()) : [];
  let client = peer;
  for (let i = chain.length - 1; i >= 0 && trusted.has(client); i--) {
    const hop = plainIp(chain[i] ?? '');
    // Anything that is not an address ends the walk: the hop that wrote it is as far as we can trust.
    if (isIP(hop) === 0) break;
    client = hop;
  }
  headers['x-forwarded-for'] = chain.length === 0 ? peer : `${chain.join(', ')}, ${peer}`;
  return client;
}
