/**
 * Replicas on one (private) Redis share cached answers: an answer stored on replica A is a hit
 * on replica B shortly after (milliseconds when idle), a replica that starts later starts warm, and Redis going away
 * fails nothing (answers stay local until it is back).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRedis } from '../helpers/redis.ts';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.ts';

const SEED = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'seed-policies', 'semantic-cache.xml'), 'utf8');

function replica(redisUrl: string, prefix: string): Promise<TestGateway> {
  return startTestGateway({
    apiPolicies: `<policies>${SEED}</policies>`,
    extraBackends: { 'embeddings-backend': { urlFromSim: true, url: '{{sim-url}}/openai/deployments/text-embedding-3-small/embeddings' } },
    config: { state: { store: 'redis', url: redisUrl, keyPrefix: prefix }, cache: { responses: { embeddingsTimeoutMs: 30_000 } } },
    logLevel: 'warn',
  });
}

async function ask(t: TestGateway, content: string): Promise<string | null> {
  const res = await fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', 'x-sim-completion-tokens': '4' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content }] }),
  });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  return res.headers.get('x-tollgate-cache');
}

/** Chat requests a replica's simulator received. */
function chatCalls(t: TestGateway): number {
  return Object.entries(t.sim.stats.byPath).reduce((n, [path, count]) => (path.endsWith('/chat/completions') ? n + count : n), 0);
}

async function within(ms: number, check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

void test('an answer stored on replica A is a hit on replica B without B calling its backend, and a replica started later starts warm', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const prefix = `semcache-${process.pid}:`;
  const a = await replica(redis.url, prefix);
  t.after(() => a.close());
  const b = await replica(redis.url, prefix);
  t.after(() => b.close());

  assert.equal(await ask(a, 'What is the boiling point of water at sea level?'), 'miss');
  // Milliseconds on an idle machine (docs/cache.md); the wait is generous for a loaded test box.
  await within(5000, () => Promise.resolve(b.gw.responseCaches.semantic.size === 1), 'replica B did not receive the entry');
  assert.equal(await ask(b, 'What is the boiling point of water at sea level?'), 'hit');
  assert.equal(chatCalls(b), 0, 'replica B never called its backend');

  const c = await replica(redis.url, prefix);
  t.after(() => c.close());
  await within(5000, () => Promise.resolve(c.gw.responseCaches.semantic.size === 1), 'a new replica reads the shared entries');
  assert.equal(await ask(c, 'What is the boiling point of water at sea level?'), 'hit');
  assert.equal(chatCalls(c), 0);
});

void test('Redis down: requests are answered, local entries still hit, and sharing resumes when Redis is back', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const prefix = `semcache2-${process.pid}:`;
  const a = await replica(redis.url, prefix);
  t.after(() => a.close());
  const b = await replica(redis.url, prefix);
  t.after(() => b.close());

  assert.equal(await ask(a, 'Name the longest river in Africa.'), 'miss');
  redis.kill('SIGKILL');
  assert.equal(await ask(a, 'Name the longest river in Africa.'), 'hit', 'the local copy still answers');
  assert.equal(await ask(a, 'How tall is Mount Everest?'), 'miss', 'a store while Redis is down fails nothing');
  assert.equal(await ask(a, 'How tall is Mount Everest?'), 'hit');

  await redis.restart();
  // The clients reconnect by themselves: stores made after that reach replica B again.
  const before = b.gw.responseCaches.semantic.size;
  let n = 0;
  await within(5000, async () => {
    await ask(a, `Which metal is liquid at room temperature? (take ${n++})`);
    return b.gw.responseCaches.semantic.size > before;
  }, 'sharing did not resume after Redis came back');
  // Which of the takes reached B is not known (some were stored while the clients reconnected):
  // let the ones in flight land, then one more store must reach B and be a hit there.
  let settled = -1;
  await within(5000, async () => {
    const size = b.gw.responseCaches.semantic.size;
    const same = size === settled;
    settled = size;
    await new Promise((r) => setTimeout(r, 250));
    return same && b.gw.responseCaches.semantic.size === size;
  }, 'replica B kept receiving entries');
  const prompt = 'Which metal is liquid at room temperature? (after the restart)';
  assert.equal(await ask(a, prompt), 'miss');
  await within(5000, () => Promise.resolve(b.gw.responseCaches.semantic.size === settled + 1), 'the store after the restart did not reach replica B');
  const calls = chatCalls(b);
  assert.equal(await ask(b, prompt), 'hit');
  assert.equal(chatCalls(b), calls);
});
