/**
 * The usage query as the admin `/usage` endpoint and `tollgate usage` take it: `groupBy`
 * (subscription, product, deployment, day), `from` and `to` (an ISO 8601 date or time, or a
 * duration back from now such as `24h`, `7d`, `30m`), and optionally `subscription` (only that
 * subscription's rows: the dashboard's per-subscription series). Bad input is a UsageQueryError naming the
 * parameter.
 * @module
 */
import { GROUP_BY, type GroupBy, type UsageQuery } from './store.ts';

export class UsageQueryError extends Error {
  readonly param: string;

  constructor(param: string, message: string) {
    super(message);
    this.param = param;
  }
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** An instant as ISO 8601 UTC: a date/time, or `<n>m|h|d|w` before `now`. */
export function parseInstant(param: string, text: string, now: number): string {
  const rel = /^(\d{1,6})([mhdw])$/.exec(text);
  if (rel !== null) return new Date(now - Number(rel[1]) * (UNIT_MS[rel[2] as string] as number)).toISOString();
  // Dates and times only (Date.parse alone also takes forms such as "1" or "March 7").
  const t = /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(t)) throw new UsageQueryError(param, `${param} must be an ISO 8601 date or time (2026-01-31, 2026-01-31T12:00:00Z) or a duration back from now (30m, 24h, 7d, 4w); got "${text.slice(0, 64)}".`);
  return new Date(t).toISOString();
}

export function parseGroupBy(text: string | null | undefined): GroupBy {
  if (text === null || text === undefined || text === '') return 'subscription';
  if ((GROUP_BY as readonly string[]).includes(text)) return text as GroupBy;
  throw new UsageQueryError('groupBy', `groupBy must be one of ${GROUP_BY.join(', ')}; got "${text.slice(0, 64)}".`);
}

export function usageQuery(
  groupBy: string | null | undefined,
  from: string | null | undefined,
  to: string | null | undefined,
  now: number,
  subscription?: string | null,
): UsageQuery {
  if (subscription !== undefined && subscription !== null && (subscription === '' || subscription.length > 256)) {
    throw new UsageQueryError('subscription', 'subscription must be a subscription id (1 to 256 characters).');
  }
  const q: UsageQuery = {
    subscription: subscription ?? null,
    groupBy: parseGroupBy(groupBy),
    from: from === null || from === undefined || from === '' ? null : parseInstant('from', from, now),
    to: to === null || to === undefined || to === '' ? null : parseInstant('to', to, now),
  };
  if (q.from !== null && q.to !== null && q.from > q.to) throw new UsageQueryError('from', 'from must not be after to.');
  return q;
}
