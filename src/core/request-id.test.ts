import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestId } from './request-id.ts';

test('request ids are RFC 9562 version 7 UUIDs carrying their millisecond', () => {
  const ms = Date.UTC(2026, 11, 3, 13, 30, 0, 123);
  const id = requestId(ms);
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), ms);
});

test('request ids are unique and sort by time', () => {
  const ids = Array.from({ length: 5000 }, (_, i) => requestId(1_700_000_000_000 + Math.floor(i / 10)));
  assert.equal(new Set(ids).size, ids.length);
  const later = ids.filter((_, i) => i % 10 === 0);
  assert.deepEqual([...later].sort(), later);
});
