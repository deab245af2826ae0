/**
 * Limits on a Redis Cluster (RELIABILITY A8): two gateway replicas sharing a private 3-primary
 * cluster admit what one process would, while the slot holding the counters moves to another
 * primary under load (MOVED, ASK, TRYAGAIN and NOSCRIPT on the new owner); and when the primary
 * that owns the slot dies, fail-open and fail-closed behave as on one server, and shared
 * enforcement resumes when it returns.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startRedisCluster, type RunningRedis, type RunningRedisCluster } from '../helpers/redis.ts';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';

let cluster: RunningRedisCluster;
before(async () => {
  cluster = await startRedisCluster(3);
});
after(() => cluster.stop());

// Two counters with unrelated keys in every request (a token limit per subscription, a call limit
// per client IP): one script call must reach both, which only works when they share a slot.
const policy = (tpm: number): string =>
  `<policies><inbound><base /><llm-token-limit tokens-per-minute="${tpm}" counter-key="@(context.Subscription.Id)" estimate-prompt-tokens="true" />` +
  `<rate-limit-by-key calls="1000000" renewal-period="60" counter-key="@(context.Request.IpAddress)" /></inbound></policies>`;

function replica(tpm: number, state: Record<string, unknown>): Promise<TestGateway> {
  return startTestGateway({ apiPolicies: policy(tpm), logLevel: 'warn', config: { state: { store: 'redis', cluster: true, urls: cluster.urls.slice(0, 2), ...state } } });
}

function chat(t: TestGateway, tokens: number): Promise<{ status: number; total: number; code: string }> {
  return fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', 'x-sim-completion-tokens': String(tokens) },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'cluster' }], max_tokens: tokens }),
  }).then(async (r) => {
    const body = (await r.json()) as { usage?: { total_tokens: number }; error?: { code: string } };
    return { status: r.status, total: body.usage?.total_tokens ?? 0, code: body.error?.code ?? '' };
  });
}

async function stateEvents(t: TestGateway, type: string): Promise<number> {
  const text = await (await fetch(`${t.gw.adminUrl}/metrics`)).text();
  return Number(new RegExp(`tollgate_state_events_total\\{type="${type}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
}

/** The node (and an admin connection to it) that owns `prefix`'s slot, the slot of all its keys. */
async function ownerOf(prefix: string): Promise<{ slot: number; node: RunningRedis; others: RunningRedis[] }> {
  const admin = new Redis(cluster.urls[0]!, { maxRetriesPerRequest: 1 });
  try {
    const slot = Number(await admin.call('CLUSTER', 'KEYSLOT', `{${prefix}}`));
    const ranges = (await admin.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const port = ranges.find(([lo, hi]) => slot >= lo && slot <= hi)?.[2][1];
    const node = cluster.nodes.find((n) => n.port === port);
    assert.ok(node !== undefined, `owner of slot ${slot}`);
    return { slot, node, others: cluster.nodes.filter((n) => n !== node) };
  } finally {
    admin.disconnect();
  }
}

/** Moves one slot with its keys, the way `redis-cli --cluster reshard` does (IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE). */
async function moveSlot(slot: number, from: RunningRedis, to: RunningRedis): Promise<void> {
  const conns = cluster.nodes.map((n) => new Redis(n.url, { maxRetriesPerRequest: 1 }));
  const conn = (n: RunningRedis): Redis => conns[cluster.nodes.indexOf(n)]!;
  try {
    const [src, dst] = [conn(from), conn(to)];
    const dstId = String(await dst.call('CLUSTER', 'MYID'));
    await dst.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', String(await src.call('CLUSTER', 'MYID')));
    await src.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', dstId);
    for (;;) {
      const keys = (await src.call('CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[];
      if (keys.length === 0) break;
      await src.call('MIGRATE', '127.0.0.1', to.port, '', 0, 5000, 'KEYS', ...keys);
    }
    await dst.call('CLUSTER', 'SETSLOT', slot, 'NODE', dstId);
    await src.call('CLUSTER', 'SETSLOT', slot, 'NODE', dstId);
    for (const c of conns) if (c !== src && c !== dst) await c.call('CLUSTER', 'SETSLOT', slot, 'NODE', dstId);
  } finally {
    for (const c of conns) c.disconnect();
  }
}

test('2 replicas on a 3-primary cluster admit at most the limit under concurrent load, also while the counters’ slot moves to another primary', async () => {
  const prefix = 'move:';
  // Accuracy, not fail mode, is under test (as in limits-redis.test.ts): both replicas run in this
  // busy test process, so a generous timeout keeps event-loop lag from counting as a failure.
  const state = { keyPrefix: prefix, failMode: 'closed', replicas: 2, commandTimeoutMs: 2000 };
  const gws = [await replica(10_000, state), await replica(10_000, state)];
  try {
    const { slot, node: from, others } = await ownerOf(prefix);
    let admitted = 0;
    let firstRefusalAt = -1;
    let moved = false;
    for (let wave = 0; wave < 20; wave++) {
      const requests = Promise.all(Array.from({ length: 64 }, (_, i) => chat(gws[i % 2]!, 40)));
      // The second wave runs while the slot migrates: ASK and TRYAGAIN during, MOVED after.
      const migration = wave === 1 ? moveSlot(slot, from, others[0]!).then(() => (moved = true)) : undefined;
      const [results] = await Promise.all([requests, migration]);
      for (const r of results) {
        assert.ok(r.status === 200 || r.status === 429, `status ${r.status} ${r.code}`);
        if (r.status === 200) admitted += r.total;
      }
      // A refusal is early when its wave ends with room left (see limits-redis.test.ts).
      if (firstRefusalAt < 0 && results.some((r) => r.status === 429)) firstRefusalAt = admitted;
      if (results.every((r) => r.status === 429)) break;
    }
    assert.ok(moved, 'the slot was moved during the run');
    assert.equal((await ownerOf(prefix)).node, others[0], 'the counters now live on another primary');
    assert.ok(admitted <= 10_200, `admitted ${admitted} tokens ≤ limit + 2%`);
    assert.ok(firstRefusalAt >= 9_800, `no early 429 (before 98%): the first wave with a refusal ended at ${firstRefusalAt} tokens`);
    for (const gw of gws) {
      assert.equal(await stateEvents(gw, 'error'), 0, 'no Redis error (CROSSSLOT, MOVED, timeout) reached the store');
      assert.equal(await stateEvents(gw, 'fallback'), 0);
    }
    // The new owner had never seen the script: EVALSHA there got NOSCRIPT and was reloaded.
    const reloads = (await Promise.all(gws.map((g) => stateEvents(g, 'script-reload')))).reduce((a, b) => a + b, 0);
    assert.ok(reloads >= 1, `script reloaded on the new owner (${reloads})`);
  } finally {
    await Promise.all(gws.map((g) => g.close()));
  }
});

test('the primary owning the slot dies: fail-closed answers 503 fast, fail-open keeps serving, and both use the cluster again when it returns', async () => {
  const prefix = 'kill:';
  const open = await replica(100_000, { keyPrefix: prefix, failMode: 'open', replicas: 2, commandTimeoutMs: 50 });
  const closed = await replica(100_000, { keyPrefix: prefix, failMode: 'closed', commandTimeoutMs: 50 });
  const { node } = await ownerOf(prefix);
  try {
    assert.equal((await chat(open, 5)).status, 200);
    assert.equal((await chat(closed, 5)).status, 200);
    node.kill('SIGKILL');
    const backendCalls = closed.sim.stats.requests;
    const started = Date.now();
    for (let i = 0; i < 10; i++) {
      const r = await chat(closed, 5);
      assert.equal(r.status, 503);
      assert.equal(r.code, 'GW_ERR_STATE_UNAVAILABLE');
      assert.equal((await chat(open, 5)).status, 200, 'fail open: no 5xx');
    }
    assert.ok(Date.now() - started < 5000, 'fast answers, no waiting on a dead primary');
    assert.equal(closed.sim.stats.requests, backendCalls, 'fail closed: nothing forwarded unchecked');
    assert.ok((await stateEvents(open, 'fallback')) > 0);

    // Same port and node file: the node rejoins with its ID and slots.
    await node.restart();
    const deadline = Date.now() + 8000;
    let ok = false;
    while (!ok && Date.now() < deadline) {
      ok = (await chat(closed, 5)).status === 200;
      if (!ok) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(ok, 'fail-closed replica admits again once the primary is back');
    let shared = false;
    while (!shared && Date.now() < deadline) {
      const fallbacks = await stateEvents(open, 'fallback');
      assert.equal((await chat(open, 5)).status, 200);
      shared = (await stateEvents(open, 'fallback')) === fallbacks;
      if (!shared) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(shared, 'fail-open replica uses the cluster again');
  } finally {
    await Promise.all([open.close(), closed.close()]);
  }
});
