/**
 * An IP address (`10.0.0.5`, `::1`) or CIDR range (`10.0.0.0/8`, `fd00::/8`), as written in
 * configuration (`gateway.trustedProxies`).
 * @module
 */
import { isIP } from 'node:net';

export interface IpRange {
  readonly address: string;
  readonly prefix: number;
  readonly family: 4 | 6;
}

/** The range an entry names, or undefined when it is neither an address nor a CIDR range. */
export function parseIpRange(entry: string): IpRange | undefined {
  const slash = entry.indexOf('/');
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const family = isIP(address);
  if (family !== 4 && family !== 6) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : entry.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > max) return undefined;
  return { address, prefix, family };
}
