/**
 * Where a specification comes from: a file (read whole, size-checked first) or an http(s) URL,
 * fetched through the same SSRF guard as `send-request` (private and loopback targets refused
 * unless `outbound.allowPrivateNetworks` or `outbound.allowedHosts` allow them), with a size and
 * a time limit and no redirects followed.
 * @module
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { GatewayError } from '../core/errors.ts';
import { OutboundClient, type OutboundPolicy } from '../upstream/outbound-client.ts';
import { isForbiddenTarget } from '../upstream/ssrf-guard.ts';
import { readCapped } from '../upstream/read-bounded.ts';
import { SPEC_LIMITS, SpecError } from './spec.ts';

export const isUrl = (source: string): boolean => /^https?:\/\//i.test(source);

/** Reads a spec file (relative to `baseDir`). @throws SpecError */
export function readSpecFile(file: string, baseDir: string): string {
  const path = resolve(baseDir, file);
  try {
    if (statSync(path).size > SPEC_LIMITS.maxBytes) throw new SpecError(`${file}: larger than ${SPEC_LIMITS.maxBytes} bytes`);
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof SpecError) throw err;
    throw new SpecError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'read error'})`);
  }
}

export interface FetchSpecOptions {
  readonly policy: OutboundPolicy;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
}

/** Fetches a spec by URL through the SSRF guard. @throws SpecError naming the refusal or failure. */
export async function fetchSpec(url: string, opts: FetchSpecOptions): Promise<string> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new SpecError(`"${url}" is not a URL`);
  }
  const client = new OutboundClient(opts.policy);
  const maxBytes = opts.maxBytes ?? SPEC_LIMITS.maxBytes;
  try {
    client.check(target, 'specification URL');
    const res = await client.dispatcher.request({
      origin: target.origin,
      path: `${target.pathname}${target.search}`,
      method: 'GET',
      headers: { accept: 'application/json, application/yaml, text/yaml, */*' },
      signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
    });
    if (res.statusCode !== 200) {
      await res.body.dump().catch(() => undefined);
      throw new SpecError(`${target.origin}${target.pathname} answered ${res.statusCode}${res.statusCode >= 300 && res.statusCode < 400 ? ' (redirects are not followed)' : ''}`);
    }
    const declared = Number(res.headers['content-length'] ?? 0);
    if (declared > maxBytes) {
      await res.body.dump().catch(() => undefined);
      throw new SpecError(`the specification at ${target.origin}${target.pathname} is larger than ${maxBytes} bytes`);
    }
    const data = await readCapped(res.body, maxBytes);
    if (data === undefined) throw new SpecError(`the specification at ${target.origin}${target.pathname} is larger than ${maxBytes} bytes`);
    return data.toString('utf8');
  } catch (err) {
    if (err instanceof SpecError) throw err;
    if (err instanceof GatewayError) throw new SpecError(err.message);
    if (isForbiddenTarget(err)) throw new SpecError(`specification URL: ${target.hostname} is internal and outbound.allowPrivateNetworks is off (or list the host in outbound.allowedHosts)`);
    const e = err as NodeJS.ErrnoException;
    throw new SpecError(`cannot fetch ${target.origin}${target.pathname}: ${e.name === 'TimeoutError' ? 'timed out' : (e.code ?? e.message)}`);
  } finally {
    await client.close();
  }
}
