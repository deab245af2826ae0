/**
 * SHA-256 (base64url) of the cache's key strings, with the digests of recent short inputs
 * remembered. A cache's traffic repeats its keys (the same partition for every request of a
 * tenant, the same prompt for every hit), and a one-shot `hash()` costs about a microsecond of
 * binding, context and encoding per call, twice per semantic lookup (partition and prompt memo
 * key): ~4 % of a hit's CPU under load. A Map read of the same string costs a string hash and one
 * comparison. The remembered digest is keyed by the whole input, compared exactly, so the result
 * is always the input's own SHA-256: nothing about partitions (a hard filter) changes.
 * @module
 */
import { hash } from 'node:crypto';

/** Longer inputs are hashed every time: the map would hold them for a rare repeat. */
const MAX_REMEMBERED_CHARS = 1024;
/** Bounds the map at ~1,024 × (1 KiB + a digest): ~1–2 MiB at worst. */
const MAX_REMEMBERED = 1024;

const recent = new Map<string, string>();

/** `hash('sha256', input, 'base64url')`, from memory when the same short input was seen recently. */
export function sha256Id(input: string): string {
  if (input.length > MAX_REMEMBERED_CHARS) return hash('sha256', input, 'base64url');
  let id = recent.get(input);
  if (id !== undefined) return id;
  id = hash('sha256', input, 'base64url');
  // Oldest first out; no recency refresh on a read (a delete and set per hit would cost more than
  // the occasional re-hash of a key that was pushed out).
  if (recent.size >= MAX_REMEMBERED) recent.delete(recent.keys().next().value as string);
  recent.set(input, id);
  return id;
}
