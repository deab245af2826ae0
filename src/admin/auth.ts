/**
 * Admin keys (`admin.keys`): which admin requests need one, how a presented key is checked, and
 * when keys are mandatory (an admin listener that is not on loopback).
 *
 * A key is checked like a subscription key (src/auth/key-store.ts): the presented key is reduced to
 * a keyed SHA-256 digest (fixed length whatever the input) and compared with every configured
 * key's digest by `timingSafeEqual`, all of them, with no early exit, so neither the length nor the
 * position of a near miss shows in the timing.
 * @module
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';

/** The only admin paths that answer without a key: load balancers and orchestrators probe them. */
export const OPEN_ADMIN_PATHS: ReadonlySet<string> = new Set(['/health', '/ready']);

export class AdminKeys {
  readonly #pepper = randomBytes(32).toString('base64');
  readonly #digests: readonly Buffer[];

  constructor(keys: readonly string[]) {
    this.#digests = keys.map((k) => this.#digest(k));
  }

  /** No key configured: the admin listener is open (allowed on loopback only). */
  get open(): boolean {
    return this.#digests.length === 0;
  }

  /** True when the request presents one of the keys (`Authorization: Bearer <key>` or `api-key: <key>`). */
  accepts(headers: IncomingHttpHeaders): boolean {
    const key = presentedAdminKey(headers);
    if (key === undefined) return false;
    const digest = this.#digest(key);
    let ok = false;
    for (const d of this.#digests) ok = timingSafeEqual(d, digest) || ok;
    return ok;
  }

  #digest(key: string): Buffer {
    return hash('sha256', this.#pepper + key, 'buffer');
  }
}

function presentedAdminKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') return auth.slice(7).trim();
  const apiKey = headers['api-key'];
  if (typeof apiKey === 'string' && apiKey !== '') return apiKey;
  return undefined;
}

/**
 * True for a `host:port` listen address on loopback: 127.0.0.0/8, ::1 (and its IPv4-mapped form),
 * `localhost`. Wildcards (0.0.0.0, ::) and every other address are not.
 */
export function isLoopbackListen(listen: string): boolean {
  const at = listen.lastIndexOf(':');
  const host = (at < 0 ? listen : listen.slice(0, at)).replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost') return true;
  const v4 = host.startsWith('::ffff:') ? host.slice(7) : host;
  if (isIP(v4) === 4) return v4.split('.')[0] === '127';
  if (isIP(host) !== 6) return false;
  // The URL parser normalises every spelling (0:0:0:0:0:0:0:1, ::ffff:7f00:1) to one form.
  const normal = new URL(`http://[${host}]/`).hostname;
  return normal === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(normal);
}

/** Why this admin configuration must not run, or null. Used at load and again before listening. */
export function adminKeyProblem(admin: { readonly enabled: boolean; readonly listen: string; readonly keys: readonly string[] }): string | null {
  if (!admin.enabled || admin.keys.length > 0 || isLoopbackListen(admin.listen)) return null;
  return (
    `the admin listener ${admin.listen} is not on loopback and admin.keys is empty: anyone who can reach it could read ` +
    'the configuration summary and metrics. Set admin.keys (secret named values, e.g. ["{{admin-key}}"]) or listen on 127.0.0.1'
  );
}
