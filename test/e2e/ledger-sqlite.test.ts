/**
 * The usage ledger on SQLite, end to end: mixed traffic through the gateway (plain and streamed
 * answers, backend errors, cut streams, clients that leave mid-stream, refused keys) leaves exactly
 * one row per request, with the token counts of its usage record and the backend's own report,
 * and a database that refuses writes (held locked by another process) loses nothing: the rows are
 * spooled and replayed without doubles. Also: cost with the shipped and overridden prices, the
 * admin `/usage` answer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startTestGateway, TEST_KEY, waitFor, type TestGateway } from '../helpers/gateway.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tollgate-ledger-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Row {
  request_id: string;
  status: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_tokens: number;
  token_source: string;
  cost_usd: number;
  subscription: string | null;
  deployment: string | null;
  model: string | null;
  streamed: number;
}

function rows(path: string): Row[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare('SELECT * FROM usage_ledger').all() as unknown as Row[];
  } finally {
    db.close();
  }
}

const headers = { 'api-key': TEST_KEY, 'content-type': 'application/json' };

function chat(model: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model, messages: [{ role: 'user', content: 'Say something about ledgers and tolls.' }], ...extra });
}

type Kind = 'plain' | 'stream' | 'error' | 'cut' | 'abort' | 'badkey';

/** One request of a kind; resolves with what the client saw (usage as reported to it, when any). */
async function send(url: string, kind: Kind): Promise<{ status: number; requestId: string | null; usage: { prompt: number; completion: number } | null }> {
  const model = kind === 'stream' ? 'gpt-4o-mini' : 'gpt-4o';
  const h: Record<string, string> = { ...headers };
  let body = chat(model);
  if (kind === 'stream' || kind === 'cut' || kind === 'abort') body = chat(model, { stream: true, stream_options: { include_usage: true } });
  if (kind === 'error') h['x-sim-fail'] = '500';
  if (kind === 'cut') h['x-sim-fail'] = 'cut-after:2';
  if (kind === 'badkey') h['api-key'] = 'tg-wrong-key-000000000000';
  if (kind === 'abort') {
    // 50 s of stream: the client leaves after its first chunk, long before the end, however
    // loaded the machine is.
    h['x-sim-completion-tokens'] = '2000';
    h['x-sim-tokens-per-second'] = '40';
  }
  const ac = new AbortController();
  const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: h, body, signal: ac.signal });
  const requestId = res.headers.get('x-request-id');
  if (kind === 'abort') {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    ac.abort();
    await reader.cancel().catch(() => undefined);
    return { status: 499, requestId, usage: null };
  }
  const text = await res.text();
  if (res.status !== 200) return { status: res.status, requestId, usage: null };
  if (kind === 'plain') {
    const u = (JSON.parse(text) as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    return { status: 200, requestId, usage: { prompt: u.prompt_tokens, completion: u.completion_tokens } };
  }
  // The final usage chunk the backend reported (the client asked for it).
  const events = text.split('\n').filter((l) => l.startsWith('data: {'));
  for (const e of events.reverse()) {
    const u = (JSON.parse(e.slice(6)) as { usage?: { prompt_tokens: number; completion_tokens: number } | null }).usage;
    if (u) return { status: 200, requestId, usage: { prompt: u.prompt_tokens, completion: u.completion_tokens } };
  }
  return { status: 200, requestId, usage: null };
}

describe('ledger on SQLite', () => {
  let t: TestGateway;
  let path: string;
  before(async () => {
    path = join(tempDir(), 'ledger.sqlite');
    t = await startTestGateway({
      logLevel: 'warn',
      config: { ledger: { store: 'sqlite', path, flushIntervalMs: 50 } },
    });
  });
  after(() => t.close());

  test('a few thousand mixed requests leave exactly one row each, with the backend-reported tokens', async () => {
    const kinds: Kind[] = [];
    for (let i = 0; i < 2000; i++) {
      const r = i % 20;
      kinds.push(r < 8 ? 'plain' : r < 13 ? 'stream' : r < 15 ? 'error' : r < 16 ? 'cut' : r < 18 ? 'abort' : 'badkey');
    }
    const seen: Awaited<ReturnType<typeof send>>[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        while (next < kinds.length) {
          const kind = kinds[next++] as Kind;
          seen.push(await send(t.url, kind));
        }
      }),
    );
    await waitFor(() => t.usages.length === kinds.length, 20_000, 'every usage record');
    await t.gw.ledger?.writer.flush();
    const stored = rows(path);
    assert.equal(stored.length, kinds.length, 'one row per request');
    assert.equal(new Set(stored.map((r) => r.request_id)).size, kinds.length);
    const byId = new Map(stored.map((r) => [r.request_id, r]));
    // Every record the usage bus carried is in the ledger with the same counts.
    for (const u of t.usages) {
      const r = byId.get(u.requestId);
      assert.ok(r, `row for ${u.requestId}`);
      assert.deepEqual([r.status, r.prompt_tokens, r.completion_tokens, r.total_tokens, r.token_source], [u.status, u.promptTokens, u.completionTokens, u.totalTokens, u.source]);
    }
    // Completed answers: the counts are the ones the backend reported to the client.
    let reported = 0;
    for (const s of seen) {
      if (s.usage === null || s.requestId === null) continue;
      const r = byId.get(s.requestId) as Row;
      assert.equal(r.prompt_tokens, s.usage.prompt);
      assert.equal(r.completion_tokens, s.usage.completion);
      assert.equal(r.token_source, 'backend');
      reported++;
    }
    assert.equal(reported, 1300);
    const sum = (f: (r: Row) => number, rs: Row[]): number => rs.reduce((a, r) => a + f(r), 0);
    const fromClients = seen.reduce((a, s) => a + (s.usage === null ? 0 : s.usage.prompt + s.usage.completion), 0);
    assert.equal(sum((r) => r.total_tokens, stored.filter((r) => r.status === 200 && r.token_source === 'backend')), fromClients);
    // Clients that left mid-stream are billed for what they got (estimated, marked as such).
    const left = stored.filter((r) => r.status === 499);
    assert.equal(left.length, 200);
    for (const r of left) {
      assert.equal(r.token_source, 'estimated');
      assert.ok(r.completion_tokens > 0 && r.completion_tokens < 2000, `partial completion billed: ${r.completion_tokens}`);
      assert.ok(r.cost_usd > 0);
    }
    // Backend errors and refused keys cost nothing; refused keys have no subscription.
    assert.equal(stored.filter((r) => r.status === 500).length, 200);
    assert.ok(stored.filter((r) => r.status === 500).every((r) => r.cost_usd === 0));
    assert.equal(stored.filter((r) => r.status === 401 && r.subscription === null).length, 200);
  });

  test('cost uses the shipped price table (gpt-4o: $2.50 in, $10 out per 1M tokens)', async () => {
    const res = await fetch(`${t.url}/v1/chat/completions`, { method: 'POST', headers: { ...headers, 'x-sim-completion-tokens': '100' }, body: chat('gpt-4o') });
    const id = res.headers.get('x-request-id') as string;
    const u = ((await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    await t.gw.ledger?.writer.flush();
    const r = rows(path).find((x) => x.request_id === id) as Row;
    assert.equal(r.completion_tokens, 100);
    assert.equal(r.cost_usd, Math.round(((u.prompt_tokens * 2.5 + 100 * 10) / 1e6) * 1e10) / 1e10);
  });

  test('GET /usage on the admin listener groups the ledger by subscription, deployment and day', async () => {
    await t.gw.ledger?.writer.flush();
    const stored = rows(path);
    const get = async (q: string): Promise<{ rows: Array<{ key: string | null; requests: number; promptTokens: number; completionTokens: number; totalTokens: number; costUsd: number }> }> => {
      const res = await fetch(`${t.gw.adminUrl}/usage${q}`);
      assert.equal(res.status, 200);
      return (await res.json()) as never;
    };
    const bySub = await get('?groupBy=subscription');
    const teamA = bySub.rows.find((r) => r.key === 'team-a');
    const mine = stored.filter((r) => r.subscription === 'team-a');
    assert.deepEqual(
      { requests: teamA?.requests, totalTokens: teamA?.totalTokens },
      { requests: mine.length, totalTokens: mine.reduce((a, r) => a + r.total_tokens, 0) },
    );
    assert.ok(Math.abs((teamA?.costUsd ?? 0) - mine.reduce((a, r) => a + r.cost_usd, 0)) < 1e-8);
    assert.equal(bySub.rows.find((r) => r.key === null)?.requests, 200);
    const byDep = await get('?groupBy=deployment');
    // Refused keys never got as far as reading the body: no deployment.
    assert.deepEqual(byDep.rows.map((r) => r.key ?? '(none)').sort(), ['(none)', 'gpt-4o', 'gpt-4o-mini']);
    const today = new Date().toISOString().slice(0, 10);
    const byDay = await get(`?groupBy=day&from=${today}`);
    assert.equal(byDay.rows.reduce((a, r) => a + r.requests, 0), stored.length);
    const future = await get('?groupBy=day&from=2999-01-01');
    assert.deepEqual(future.rows, []);
    const bad = await fetch(`${t.gw.adminUrl}/usage?groupBy=team`);
    assert.equal(bad.status, 400);
    const err = (await bad.json()) as { error: { code: string; param: string } };
    assert.deepEqual([err.error.code, err.error.param], ['GW_ERR_INVALID_REQUEST', 'groupBy']);
    const badFrom = await fetch(`${t.gw.adminUrl}/usage?from=yesterday`);
    assert.equal(badFrom.status, 400);
  });
});

describe('ledger on SQLite: a database that refuses writes', () => {
  test('a lock held longer than the busy timeout stalls no request: inserts wait in the writer thread, and every row arrives once', async () => {
    const dir = tempDir();
    const path = join(dir, 'ledger.sqlite');
    // The busy timeout is the ledger's timeoutMs: an insert waits up to 3 s for the lock. On the
    // event loop that wait held every request in flight for 3 s; in the writer thread it holds none.
    const t = await startTestGateway({ logLevel: 'warn', config: { ledger: { store: 'sqlite', path, flushIntervalMs: 20, timeoutMs: 3000, retryMs: 200 } } });
    try {
      const one = async (): Promise<{ id: string; ms: number }> => {
        const started = performance.now();
        const res = await fetch(`${t.url}/v1/chat/completions`, { method: 'POST', headers: { ...headers, 'x-sim-completion-tokens': '5' }, body: chat('gpt-4o') });
        await res.arrayBuffer();
        assert.equal(res.status, 200);
        return { id: res.headers.get('x-request-id') as string, ms: performance.now() - started };
      };
      const ids: string[] = [(await one()).id];
      await t.gw.ledger?.writer.flush();
      const locker = new DatabaseSync(path, { timeout: 0 });
      locker.exec('BEGIN EXCLUSIVE');
      let slowest = 0;
      const until = performance.now() + 2500;
      while (performance.now() < until) {
        const r = await one();
        ids.push(r.id);
        slowest = Math.max(slowest, r.ms);
      }
      locker.exec('ROLLBACK');
      locker.close();
      // Far below the 3 s a blocked loop added, far above a request's own time on a loaded machine.
      assert.ok(slowest < 1000, `a request took ${slowest.toFixed(0)} ms while the ledger file was locked`);
      // Spooled batches are replayed once the store answers again; flush asks for that now.
      for (let tries = 0; rows(path).length < ids.length && tries < 50; tries++) {
        await t.gw.ledger?.writer.flush();
        await new Promise((r) => setTimeout(r, 100));
      }
      const stored = rows(path);
      assert.equal(stored.length, ids.length);
      assert.deepEqual(new Set(stored.map((r) => r.request_id)), new Set(ids));
      assert.equal(t.gw.ledger?.writer.stats.dropped, 0);
    } finally {
      await t.close();
    }
  });

  test('rows are spooled while another process holds the file locked, then replayed once, without doubles', async () => {
    const dir = tempDir();
    const path = join(dir, 'ledger.sqlite');
    const t = await startTestGateway({
      logLevel: 'warn',
      config: { pricing: { 'gpt-4o': { input: 1, output: 2 } }, ledger: { store: 'sqlite', path, flushIntervalMs: 20, timeoutMs: 100, retryMs: 200 } },
    });
    try {
      const one = async (): Promise<string> => {
        const res = await fetch(`${t.url}/v1/chat/completions`, { method: 'POST', headers: { ...headers, 'x-sim-completion-tokens': '10' }, body: chat('gpt-4o') });
        await res.arrayBuffer();
        return res.headers.get('x-request-id') as string;
      };
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push(await one());
      await t.gw.ledger?.writer.flush();
      assert.equal(rows(path).length, 20);
      // Another process takes the write lock and keeps it: every insert times out (busy).
      const locker = new DatabaseSync(path, { timeout: 0 });
      locker.exec('BEGIN EXCLUSIVE');
      for (let i = 0; i < 100; i++) ids.push(await one());
      await waitFor(() => (t.gw.ledger?.writer.stats.spooled ?? 0) >= 100, 10_000, 'rows spooled');
      assert.ok(existsSync(`${path}.spool.jsonl`) && statSync(`${path}.spool.jsonl`).size > 0);
      assert.ok(t.logs.some((l) => l.includes('ledger sqlite store failing')));
      locker.exec('ROLLBACK');
      locker.close();
      // The retry replays the spool by itself (no new request needed).
      await waitFor(() => (t.gw.ledger?.writer.stats.replayed ?? 0) >= 100, 10_000, 'spool replayed');
      for (let i = 0; i < 10; i++) ids.push(await one());
      await t.gw.ledger?.writer.flush();
      const stored = rows(path);
      assert.equal(stored.length, ids.length);
      assert.deepEqual(new Set(stored.map((r) => r.request_id)), new Set(ids));
      assert.equal(statSync(`${path}.spool.jsonl`).size, 0);
      // The overridden price applies: 1 USD per 1M input tokens, 2 per 1M output tokens.
      for (const r of stored) assert.equal(r.cost_usd, Math.round(((r.prompt_tokens * 1 + r.completion_tokens * 2) / 1e6) * 1e10) / 1e10);
      assert.equal(t.gw.ledger?.writer.stats.dropped, 0);
      // The admin /status shows the writer's counters.
      const status = (await (await fetch(`${t.gw.adminUrl}/status`)).json()) as { ledger: Record<string, unknown> };
      assert.deepEqual(status.ledger, { store: 'sqlite', pending: 0, written: 30, spooled: 100, replayed: 100, dropped: 0, spoolBytes: 0 });
    } finally {
      await t.close();
    }
  });
});
