/**
 * A promise bounded in time: the one helper for every "this call may not take longer than" on
 * the gateway's side calls (Redis, the ledger's database).
 * @module
 */

/**
 * `p`, or a rejection with `Error(message)` once `ms` have passed; `p`'s own later outcome is then
 * ignored (Promise.race has subscribed to it, so a late rejection is not unhandled). The timer is
 * cleared either way.
 * @example
 * await withTimeout(store.insert(rows), 5000, 'ledger insert took longer than 5000 ms');
 */
export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
