/**
 * The gateway's request ids: UUIDv7 (RFC 9562 §5.7), 48 bits of Unix milliseconds then 74 random
 * bits. Still unique and unguessable enough for correlation, and time-ordered, which is what the
 * usage ledger's primary key needs: random (v4) keys scatter every batch of inserts over the
 * whole B-tree (measured on SQLite: 32 µs CPU per row once the table holds 100k rows, against 5 µs
 * for time-ordered keys), and PostgreSQL's index suffers the same way.
 * @module
 */
import { randomFillSync } from 'node:crypto';

// Random bytes drawn in bulk: one getrandom call per 409 ids, like randomUUID's own cache.
const POOL = Buffer.allocUnsafe(4096);
let offset = POOL.length;

/** Two hex digits per byte value: the id is assembled from table entries, no number formatting per id. */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HI = HEX.map((h) => h.charAt(0));
const LO = HEX.map((h) => h.charAt(1));

/** The time part (`xxxxxxxx-xxxx-7`) of the last millisecond an id was made for: ids of one millisecond share it. */
let lastMs = -1;
let lastPrefix = '';

function timePrefix(ms: number): string {
  if (ms !== lastMs) {
    const t = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12);
    lastMs = ms;
    lastPrefix = `${t.slice(0, 8)}-${t.slice(8, 12)}-7`;
  }
  return lastPrefix;
}

/** A UUIDv7 for the time `ms` (default now), lower-case hex, `xxxxxxxx-xxxx-7xxx-Vxxx-xxxxxxxxxxxx`. */
export function requestId(ms: number = Date.now()): string {
  if (offset + 10 > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const p = POOL;
  const o = offset;
  offset += 10;
  // 12 random bits after the version, the variant (binary 10) and 2 + 60 random bits after it.
  const b1 = p[o + 1] as number;
  const b3 = p[o + 3] as number;
  const b9 = p[o + 9] as number;
  return (
    timePrefix(ms) +
    (HEX[p[o] as number] as string) + (HI[b1] as string) + '-' +
    (LO[(b1 & 0x3) | 0x8] as string) + (HEX[p[o + 2] as number] as string) + (HI[b3] as string) + '-' +
    (LO[b3] as string) + (HEX[p[o + 4] as number] as string) + (HEX[p[o + 5] as number] as string) + (HEX[p[o + 6] as number] as string) +
    (HEX[p[o + 7] as number] as string) + (HEX[p[o + 8] as number] as string) + (HI[b9] as string)
  );
}
