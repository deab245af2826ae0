/**
 * The one spelling of a request path that routing, policies, metering and the backend all see.
 *
 * Paths that name the same resource more than one way let a request dodge a check: a trailing
 * slash or `%2e%2e` turns a metered chat call into an unmetered pass-through, and a backend that
 * normalises the path itself then serves a deployment or path the gateway never checked. So the
 * path is canonicalised once, before routing (RFC 3986 §6.2.2): unreserved characters are
 * decoded (`%2e` → `.`, `%63` → `c`), other escapes get upper-case hex, dot segments are
 * resolved (§5.2.4), empty segments (`//`, a trailing `/`) are dropped. What has no single
 * meaning is refused instead of guessed at: an encoded or back slash, an encoded NUL, a malformed
 * escape, a double-encoded dot or slash, a `..` above the root, a `..;` segment (Tomcat reads it
 * as `..`), and anything that is not an origin-form path.
 * @module
 */

export type Canonical = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: string };

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const HEX = '0123456789ABCDEF';
// %25 followed by the hex of '.', '/', '\': a backend that decodes twice would see a dot segment or slash.
const DOUBLE_ENCODED = /%25(2e|2f|5c)/i;
const DOT_WITH_PARAMS = /^\.\.?;/;

/**
 * Most paths are already canonical; the scan below is the only cost they pay (no allocation).
 * Slow path when the path has `%`, `\`, an empty segment, a segment starting with `.`, or a trailing `/`.
 */
function needsWork(path: string): boolean {
  const n = path.length;
  if (n > 1 && path.charCodeAt(n - 1) === 47 /* / */) return true;
  for (let i = 0; i < n; i++) {
    const c = path.charCodeAt(i);
    if (c === 37 /* % */ || c === 92 /* \ */) return true;
    if (c === 47 && i + 1 < n) {
      const next = path.charCodeAt(i + 1);
      if (next === 47 || next === 46 /* . */) return true;
    }
  }
  return false;
}

/**
 * `refuseDotSegments`: for paths built by policies (`rewrite-uri`), where a `.` or `..` (however
 * encoded) can only have come from a value that was not meant to move the path, refuse them instead
 * of resolving them.
 */
export function canonicalPath(raw: string, refuseDotSegments = false): Canonical {
  if (raw.charCodeAt(0) !== 47) return { ok: false, reason: 'the request target is not an absolute path' };
  if (!needsWork(raw)) return { ok: true, path: raw };
  if (DOUBLE_ENCODED.test(raw)) return { ok: false, reason: 'the path contains a double-encoded dot or slash' };
  const out: string[] = [];
  for (const rawSegment of raw.slice(1).split('/')) {
    const segment = decodeUnreserved(rawSegment);
    if (typeof segment !== 'string') return segment;
    if ((segment === '.' || segment === '..') && refuseDotSegments) return { ok: false, reason: 'the path has a dot segment' };
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (out.length === 0) return { ok: false, reason: 'the path climbs above the root' };
      out.pop();
      continue;
    }
    if (DOT_WITH_PARAMS.test(segment)) return { ok: false, reason: 'the path has a dot segment with parameters' };
    out.push(segment);
  }
  return { ok: true, path: '/' + out.join('/') };
}

/** Decodes escapes of unreserved characters, normalises the rest; refuses slashes, NUL and bad escapes. */
function decodeUnreserved(segment: string): string | { readonly ok: false; readonly reason: string } {
  if (segment.includes('\\')) return { ok: false, reason: 'the path contains a backslash' };
  if (!segment.includes('%')) return segment;
  let result = '';
  let from = 0;
  for (let i = segment.indexOf('%'); i >= 0; i = segment.indexOf('%', from)) {
    const hi = i + 2 < segment.length ? HEX.indexOf(segment.charAt(i + 1).toUpperCase()) : -1;
    const lo = hi < 0 ? -1 : HEX.indexOf(segment.charAt(i + 2).toUpperCase());
    if (hi < 0 || lo < 0) return { ok: false, reason: 'the path contains a malformed percent-escape' };
    const byte = hi * 16 + lo;
    if (byte === 0x2f || byte === 0x5c) return { ok: false, reason: 'the path contains an encoded slash or backslash' };
    if (byte === 0) return { ok: false, reason: 'the path contains an encoded NUL' };
    const ch = String.fromCharCode(byte);
    result += segment.slice(from, i) + (UNRESERVED.test(ch) ? ch : '%' + HEX.charAt(hi) + HEX.charAt(lo));
    from = i + 3;
  }
  return result + segment.slice(from);
}
