/**
 * The Lua scripts behind RedisLimitStore. Each runs atomically in Redis (no other command
 * interleaves), which is what makes check-and-reserve exact across replicas: there is no
 * read-then-increment gap (Kong #5311). Arithmetic that must match MemoryLimitStore to the
 * millisecond (bucket indexes, TTLs, retry-after) is done in TypeScript and passed in, so Lua only
 * reads, compares and writes integers.
 *
 * Scripts touch only the keys passed in KEYS (Redis Cluster requirement) and use no Redis TIME:
 * the caller's clock decides windows, so replicas and the memory store agree.
 *
 * The script's wire format lives here too: how its fields are packed and how its answer is read
 * back into a Reservation, so the contract and both sides of it are in one file.
 * @module
 */
import { createHash } from 'node:crypto';
import type { CounterRequest, CounterState, Reservation } from './limit-store.ts';

/**
 * Settles carried along, then check-and-reserve for every counter of a request at once. With no
 * counters it is the settle script (a queue flushed on its own) and, empty, the breaker's probe.
 *
 * The arguments come packed in ARGV[1] as one string, each field followed by a comma ("f1,f2,,"
 * has three fields, the last empty), and the answer is packed the same way: one bulk string to
 * encode and decode instead of an argument or array element per field, which is a quarter of the
 * client's CPU per call (docs/performance.md). Below, A[i] is field i of ARGV[1].
 *
 * A[1] = S, the number of settle operations that come first: KEYS[1..S] with 3 fields each
 * (kind 's' | 'f', delta = actual − reserved, bucket index for sliding), floored at 0; a counter
 * whose key is gone (expired) is left alone, and TTLs are kept. Settles of finished requests ride on the next reservation instead of costing
 * a round trip of their own, and are applied before the check, so this replica never reads its
 * own stale reservations.
 * KEYS[S+i]: counter i (sliding: hash bucket-index → amount; fixed: string counter of one window).
 * Fields (after the settles): 6 per counter: kind ('s' | 'f'), limit, cost, then
 *   sliding: oldest live bucket index, bucket index of now, TTL ms
 *   fixed:   '1' when the window is still open else '0', TTL ms, unused
 * Returns the fields: admitted (1|0), refusedBy (0-based, -1), then per counter: used before this
 * request, and for a refused sliding counter the index of the oldest bucket whose expiry makes
 * room (empty when no bucket does).
 * Expired buckets are deleted as they are read, like the memory store does.
 */
export const RESERVE_LUA = `
local A = {}
for v in string.gmatch(ARGV[1], '([^,]*),') do A[#A + 1] = v end
local s = tonumber(A[1])
for i = 1, s do
  local a = 1 + (i - 1) * 3
  local key = KEYS[i]
  local delta = tonumber(A[a + 2])
  if A[a + 1] == 's' then
    if redis.call('EXISTS', key) == 1 then
      local v = tonumber(redis.call('HGET', key, A[a + 3]) or '0') + delta
      if v < 0 then v = 0 end
      redis.call('HSET', key, A[a + 3], string.format('%d', v))
    end
  else
    local cur = redis.call('GET', key)
    if cur then
      local v = tonumber(cur) + delta
      if v < 0 then v = 0 end
      redis.call('SET', key, string.format('%d', v), 'KEEPTTL')
    end
  end
end
local base = 1 + s * 3
local n = #KEYS - s
local out = {'0', '-1'}
local refused = -1
for i = 1, n do
  local a = base + (i - 1) * 6
  local key = KEYS[s + i]
  local limit = tonumber(A[a + 2])
  local cost = tonumber(A[a + 3])
  local used = 0
  local room = false
  if A[a + 1] == 's' then
    local oldest = tonumber(A[a + 4])
    local h = redis.call('HGETALL', key)
    local live = {}
    local dead = {}
    for j = 1, #h, 2 do
      local b = tonumber(h[j])
      if b < oldest then
        dead[#dead + 1] = h[j]
      else
        local v = tonumber(h[j + 1])
        used = used + v
        live[#live + 1] = {b, v}
      end
    end
    for j = 1, #dead, 500 do
      redis.call('HDEL', key, unpack(dead, j, math.min(j + 499, #dead)))
    end
    if used + cost > limit and cost <= limit then
      table.sort(live, function(x, y) return x[1] < y[1] end)
      local excess = used + cost - limit
      for j = 1, #live do
        excess = excess - live[j][2]
        if excess <= 0 then
          room = live[j][1]
          break
        end
      end
    end
  elseif A[a + 4] == '1' then
    used = tonumber(redis.call('GET', key) or '0')
  end
  if used + cost > limit and refused < 0 then refused = i - 1 end
  out[2 * i + 1] = string.format('%d', used)
  out[2 * i + 2] = room and string.format('%d', room) or ''
end
if refused >= 0 then
  out[2] = tostring(refused)
  return table.concat(out, ',') .. ','
end
for i = 1, n do
  local a = base + (i - 1) * 6
  local key = KEYS[s + i]
  if A[a + 1] == 's' then
    redis.call('HINCRBY', key, A[a + 5], A[a + 3])
    redis.call('PEXPIRE', key, A[a + 6])
  elseif A[a + 4] == '1' then
    redis.call('INCRBY', key, A[a + 3])
    redis.call('PEXPIRE', key, A[a + 5])
  end
end
out[1] = '1'
return table.concat(out, ',') .. ','
`;


export interface LuaScript {
  readonly lua: string;
  readonly sha: string;
}

function script(lua: string): LuaScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

export const RESERVE_SCRIPT = script(RESERVE_LUA);

/** The fields of a call, packed into the script's one argument (each followed by a comma). */
export function packFields(fields: readonly string[]): string {
  return fields.length === 0 ? '' : `${fields.join(',')},`;
}

/** The script's packed answer as its fields; anything else is an unexpected reply. */
export function unpackReply(reply: unknown): string[] {
  if (typeof reply !== 'string' || !reply.endsWith(',')) throw new Error('unexpected reply from the reserve script');
  return reply.slice(0, -1).split(',');
}

/** The reserve script's answer as the store's result (see the field list above). */
export function toReservation(row: readonly string[], requests: readonly CounterRequest[], now: number): Reservation {
  if (row.length !== 2 + 2 * requests.length) throw new Error('unexpected reply from the reserve script');
  const admitted = Number(row[0]) === 1;
  const counters: CounterState[] = requests.map((r, i) => {
    const cost = amount(r.cost);
    const used = Number(row[2 + 2 * i]);
    if (admitted) return { used: used + cost, remaining: Math.max(0, r.limit - used - cost), retryAfterMs: 0 };
    const fits = used + cost <= r.limit;
    return { used, remaining: Math.max(0, r.limit - used), retryAfterMs: fits ? 0 : retryAfter(r, cost, row[3 + 2 * i], now) };
  });
  if (admitted) return { admitted, counters, refusedBy: -1, handle: { at: now, requests } };
  return { admitted, counters, refusedBy: Number(row[1]), handle: null };
}

/** Same rule as MemoryLimitStore: until the bucket that makes room leaves the window. */
function retryAfter(r: CounterRequest, cost: number, room: string | undefined, now: number): number {
  if (r.window.kind === 'fixed') return Math.max(0, r.window.endMs - now);
  if (cost > r.limit || room === undefined || room === '') return r.window.windowMs;
  return Math.max(1, (Number(room) + 1) * r.window.bucketMs + r.window.windowMs - now);
}

/** Counters hold integers (tokens, calls): fractions round up, negatives and NaN count 0. */
export function amount(x: number): number {
  return Number.isFinite(x) && x > 0 ? Math.min(Math.ceil(x), Number.MAX_SAFE_INTEGER) : x === Infinity ? Number.MAX_SAFE_INTEGER : 0;
}

/** A limit as a field: NaN and ±Infinity as numbers the script compares the same way. */
export function limitArg(limit: number): string {
  if (Number.isNaN(limit)) return '-1'; // NaN admits nothing, as `used + cost <= NaN` in the memory store
  return Number.isFinite(limit) ? String(limit) : String(limit > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE);
}
