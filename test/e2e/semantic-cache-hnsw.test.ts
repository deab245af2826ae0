/**
 * A semantic cache partition large enough for HNSW, through the gateway with real sockets: its
 * lookups are answered by the HNSW thread (usearch never loads on the gateway's event loop), and
 * the thread dying, even with lookups in flight, costs the clients no error: lookups that were
 * waiting are misses answered by the backend, the lost partition's entries are dropped, and the
 * prompt's answer is stored again and found.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hnswThread } from '../../src/cache/hnsw-thread.ts';
import { randomUnit, usearchLoadedHere } from '../../src/cache/test-support.ts';
import { waitFor } from '../helpers/gateway.ts';
import { chat, chatCalls, start } from '../helpers/semantic-cache.ts';

const PROMPT = 'What is the capital of France?';

test('a partition past the exact-scan limit is searched in the HNSW thread; the thread dying turns its lookups into misses, never errors', async () => {
  const t = await start();
  try {
    const semantic = t.gw.responseCaches.semantic;
    let partition = '';
    let dimensions = 0;
    semantic.onStored = (entry) => {
      partition = entry.partition;
      dimensions = entry.vector.length;
    };
    const first = await chat(t, PROMPT);
    assert.equal(first.headers.get('x-tollgate-cache'), 'miss');
    const original = await first.text();
    await waitFor(() => semantic.size === 1, 5000, 'the answer was not stored');
    // 600 other entries in the same partition: past the exact-scan limit (512), so HNSW.
    const expiresAt = Date.now() + 600_000;
    for (let i = 0; i < 600; i++) semantic.insert({ partition, vector: randomUnit(dimensions, i + 1), answer: { body: Buffer.from('{}') }, expiresAt });
    assert.equal(hnswThread.running, true, 'the partition moved to the HNSW thread');

    const hit = await chat(t, PROMPT);
    assert.equal(hit.headers.get('x-tollgate-cache'), 'hit');
    assert.ok(Number(hit.headers.get('x-tollgate-cache-score')) >= 0.99);
    assert.equal(await hit.text(), original);
    assert.deepEqual(usearchLoadedHere(), [], 'usearch runs in the HNSW thread, never on the event loop');

    // The thread dies with lookups in flight: each is answered, a miss going to the backend.
    const inFlight = Array.from({ length: 20 }, () => chat(t, PROMPT));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await hnswThread.killForTests();
    for (const res of await Promise.all(inFlight)) {
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    // The lost partition's 601 entries went; the misses stored the answer again (exact scan now).
    await waitFor(() => semantic.size >= 1 && semantic.size <= 21, 5000, 'the lost entries were not dropped');
    const calls = chatCalls(t);
    const after = await chat(t, PROMPT);
    assert.equal(after.headers.get('x-tollgate-cache'), 'hit', 'stored again, found again');
    await after.arrayBuffer();
    assert.equal(chatCalls(t), calls, 'the hit did not reach the chat backend');
  } finally {
    await t.close();
  }
  assert.equal(hnswThread.running, false, 'the gateway closing ended the HNSW thread');
});
