/**
 * The SSRF guard for every URL the gateway computes at run time (`send-request`, a
 * `set-backend-service base-url` from an expression): http(s) only; a literal address is judged
 * at once; a host name is resolved and every answer judged, and the connection goes to an address
 * that passed (no second lookup, so no DNS-rebinding window). Redirects are never followed by the
 * clients that use it. Statically configured backend URLs are the operator's and are not guarded.
 *
 * Internal means RFC 6890 special-purpose space, judged on the IPv4 address inside every IPv6
 * form that carries one: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, all of
 * `::/96` is refused), IPv4-translated (`::ffff:0:a.b.c.d`), NAT64 (`64:ff9b::/96`) and 6to4
 * (`2002::/16`). Decimal, hex and octal IPv4 spellings (`2130706433`, `0x7f000001`, `0177.0.0.1`)
 * are normalised to dotted form by the URL parser before they get here.
 * @module
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

export interface OutboundPolicy {
  /** Allow private, loopback and link-local targets (tests, on-premises backends). */
  readonly allowPrivateNetworks: boolean;
  /** Host names always allowed whatever they resolve to (exact, lower-case). */
  readonly allowedHosts: readonly string[];
}

/** Error code of a refused target, set on errors from {@link guardedLookup} and {@link checkTarget}. */
export const FORBIDDEN_TARGET = 'ERR_TOLLGATE_FORBIDDEN_TARGET';

const V4_INTERNAL = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  V4_INTERNAL.addSubnet(net, prefix, 'ipv4');
}

const V6_INTERNAL = new BlockList();
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible ::a.b.c.d
  ['64:ff9b:1::', 48], // local-use NAT64 (RFC 8215)
  ['100::', 64], // discard-only
  ['2001::', 23], // IETF protocol assignments, including Teredo (2001::/32)
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // deprecated site-local
  ['ff00::', 8], // multicast
] as const) {
  V6_INTERNAL.addSubnet(net, prefix, 'ipv6');
}

/** The 16 bytes of an IPv6 address (zone removed), or null when it is not one. */
function ipv6Bytes(address: string): Uint8Array | null {
  const text = address.replace(/%.*$/, '');
  if (isIP(text) !== 6) return null;
  let head = text;
  const v4Tail: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    head = `${dotted[1] as string}0:0`;
    v4Tail.push(...(dotted[2] as string).split('.').map(Number));
  }
  const [left, right] = head.includes('::') ? (head.split('::') as [string, string]) : [head, null];
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const l = groups(left);
  const r = right === null ? [] : groups(right);
  const all = right === null ? l : [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  if (v4Tail.length === 4) bytes.set(v4Tail, 12);
  return bytes;
}

const v4At = (b: Uint8Array, at: number): string => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
const zero = (b: Uint8Array, from: number, to: number): boolean => b.subarray(from, to).every((x) => x === 0);

/** The IPv4 address an IPv6 address stands for or routes to, if any (see the module comment). */
export function embeddedIpv4(b: Uint8Array): string | null {
  if (zero(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return v4At(b, 12); // ::ffff:a.b.c.d
  if (zero(b, 0, 8) && b[8] === 0xff && b[9] === 0xff && zero(b, 10, 12)) return v4At(b, 12); // ::ffff:0:a.b.c.d
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(b, 4, 12)) return v4At(b, 12); // 64:ff9b::/96
  if (b[0] === 0x20 && b[1] === 0x02) return v4At(b, 2); // 2002:aabb:ccdd::/48
  return null;
}

/**
 * True when `address` (an IP literal, IPv6 without brackets) must not be reached from inside
 * the gateway. Anything that is not an IP address counts as internal.
 */
export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return V4_INTERNAL.check(address, 'ipv4');
  const bytes = ipv6Bytes(address);
  if (bytes === null) return true;
  // A zone id (fe80::1%eth0) only makes sense on a local link.
  if (address.includes('%')) return true;
  const v4 = embeddedIpv4(bytes);
  if (v4 !== null && V4_INTERNAL.check(v4, 'ipv4')) return true;
  return V6_INTERNAL.check(address.replace(/%.*$/, ''), 'ipv6');
}

function forbidden(message: string): NodeJS.ErrnoException {
  const e = new Error(message) as NodeJS.ErrnoException;
  e.code = FORBIDDEN_TARGET;
  return e;
}

/** True when `err` (or an error in its `cause` chain) is a refusal by this guard. */
export function isForbiddenTarget(err: unknown): boolean {
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === FORBIDDEN_TARGET) return true;
  }
  return false;
}

function hostAllowed(policy: OutboundPolicy, host: string): boolean {
  return policy.allowPrivateNetworks || policy.allowedHosts.includes(host.toLowerCase());
}

/**
 * Checks a URL before any connection: the scheme, and a literal IP host against the policy
 * (a literal never reaches the lookup). Returns a refusal reason, or null when it may proceed.
 */
export function checkTarget(url: URL, policy: OutboundPolicy): string | null {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `only http and https URLs are allowed, not ${url.protocol}`;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && !hostAllowed(policy, host) && isInternalAddress(host)) return 'the target address is internal';
  return null;
}

/**
 * A `lookup` for undici's connector: resolves every address, drops internal ones (unless the
 * policy allows the host) and hands the connector only what passed, so it connects to a
 * validated address. Nothing left → a {@link FORBIDDEN_TARGET} error.
 */
export function guardedLookup(policy: OutboundPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const usable = hostAllowed(policy, hostname) ? addresses : addresses.filter((a) => !isInternalAddress(a.address));
      const first = usable[0];
      if (first === undefined) return callback(forbidden(`refused: ${hostname} resolves only to internal addresses`), '', 0);
      if ((options as { all?: boolean }).all === true) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, usable);
      else callback(null, first.address, first.family);
    });
  };
}
