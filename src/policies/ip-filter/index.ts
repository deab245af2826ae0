/**
 * `<ip-filter action="allow|forbid"><address>1.2.3.4</address><address-range from="10.0.0.1" to="10.0.0.9" /></ip-filter>`:
 * admits or refuses the caller's address (403 `GW_ERR_IP_FORBIDDEN`). Uses node's BlockList, so
 * IPv4, IPv6 and IPv4-mapped IPv6 addresses compare correctly.
 * @module
 */
import { BlockList, isIP } from 'node:net';
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { GatewayError } from '../../core/errors.ts';
import { ElementReader } from '../../policy-docs/reader.ts';

function family(address: string): 'ipv4' | 'ipv6' | null {
  const f = isIP(address);
  return f === 4 ? 'ipv4' : f === 6 ? 'ipv6' : null;
}

export const ipFilterDefinition: PolicyDefinition = {
  names: ['ip-filter'],
  sections: ['inbound'],
  compile(r) {
    const action = r.oneOf('action', ['allow', 'forbid'] as const, undefined, true);
    const list = new BlockList();
    for (const child of r.children(['address', 'address-range'])) {
      const c = new ElementReader(child);
      if (child.name === 'address') {
        const text = child.text?.value.trim() ?? '';
        const f = family(text);
        if (f === null) throw c.fail(null, `"${text}" is not an IP address`);
        list.addAddress(text, f);
      } else {
        const from = (c.literal('from', true) as string).trim();
        const to = (c.literal('to', true) as string).trim();
        const f = family(from);
        if (f === null || family(to) !== f) throw c.fail('from', 'and "to" must be IP addresses of the same family');
        list.addRange(from, to, f);
      }
      c.done();
    }
    return {
      name: 'ip-filter',
      run(ctx) {
        let ip = ctx.request.ip;
        const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
        if (mapped) ip = mapped[1] as string;
        const f = family(ip);
        const listed = f !== null && list.check(ip, f);
        if ((action === 'allow') !== listed) throw new GatewayError('GW_ERR_IP_FORBIDDEN', 'The caller IP address is not allowed.');
      },
    };
  },
};
