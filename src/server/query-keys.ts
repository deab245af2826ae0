/**
 * A subscription key sent in the query string (APIM's `subscription-key`, or the header names
 * used as parameters) is the client's gateway credential: like the key headers, it stops at the
 * gateway. It is removed at ingress, so neither policies (`context.Request.Url`) nor the backend
 * (nor the backend's access logs) ever see it. The key is not accepted from the query string:
 * keys belong in headers, where they stay out of URLs and logs.
 * @module
 */

const KEY_PARAMS = new Set(['subscription-key', 'api-key', 'ocp-apim-subscription-key']);

/** `query` with its leading `?` (or ""); returns it without key parameters (or "" when none is left). */
export function withoutKeyParams(query: string): string {
  // Fast path: no parameter name can be a key without the letters "key" (or an escape hiding them).
  if (query.length === 0 || !/key|%/i.test(query)) return query;
  const kept: string[] = [];
  for (const pair of query.slice(1).split('&')) {
    const eq = pair.indexOf('=');
    if (!KEY_PARAMS.has(paramName(eq < 0 ? pair : pair.slice(0, eq)))) kept.push(pair);
  }
  return kept.length === 0 ? '' : '?' + kept.join('&');
}

function paramName(raw: string): string {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' ')).trim().toLowerCase();
  } catch {
    // A malformed escape decodes to nothing a backend could read as a key name; keep it as is.
    return raw.toLowerCase();
  }
}
