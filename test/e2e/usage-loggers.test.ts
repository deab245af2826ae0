/**
 * log-to-eventhub and the usage loggers (`loggers:`), each against a real receiver: a file, a
 * local HTTP server, a private redis-server, an injected stdout. The seed's "Log Token Usage to
 * Event Hub" block runs verbatim and logs the backend's real token numbers, for JSON answers and
 * for streams (where it runs at the stream's end).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { postChat, startTestGateway, waitFor, withTestGateway } from '../helpers/gateway.ts';
import { startRedis } from '../helpers/redis.ts';
import { loadConfigObject, ConfigError } from '../../src/config/load.ts';

const SEEDS = join(import.meta.dirname, '..', 'fixtures', 'seed-policies');
const seedLogging = readFileSync(join(SEEDS, 'token-usage-logging.xml'), 'utf8');
const doc = (inbound: string, outbound: string): string =>
  `<policies><inbound><base />${inbound}</inbound><backend><base /></backend><outbound>${outbound}</outbound><on-error><base /></on-error></policies>`;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tollgate-loggers-'));
}



/** The usage chunk of an SSE answer the client asked usage for. */
function streamUsage(sse: string): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  for (const line of sse.split('\n')) {
    if (!line.startsWith('data: {')) continue;
    const chunk = JSON.parse(line.slice(6)) as { usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null };
    if (chunk.usage) return chunk.usage;
  }
  throw new Error('no usage chunk in the stream');
}

/** Polls an async check (one at a time) until it holds; fails after `timeoutMs`. */
async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const readLines = (path: string): Array<Record<string, unknown>> =>
  existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) : [];

test('the seed\'s token usage logging block, verbatim, writes the backend\'s real token numbers to a file logger, for JSON answers and streams', async () => {
  const dir = tempDir();
  const path = join(dir, 'usage.jsonl');
  try {
    await withTestGateway(
      {
        apiPolicies: `<policies><inbound><base /></inbound><backend><base /></backend>${seedLogging}<on-error><base /></on-error></policies>`,
        config: { loggers: { 'token-usage-logger': { type: 'file', path, flushIntervalMs: 20 } } },
      },
      async (t) => {
        const plain = await postChat(t, {}, { 'x-model': 'gpt-4o' });
        assert.equal(plain.status, 200);
        const usage = ((await plain.json()) as { usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } }).usage;
        // The client asks for the usage chunk itself, so the test sees what the backend reported.
        const streamed = await postChat(t, { stream: true, stream_options: { include_usage: true }, max_tokens: 11 });
        assert.equal(streamed.status, 200);
        const streamedUsage = streamUsage(await streamed.text());
        await waitFor(() => readLines(path).length === 2, 5000, 'two log lines');
        const [first, second] = readLines(path) as [Record<string, unknown>, Record<string, unknown>];
        assert.equal(first['subscriptionId'], 'team-a');
        assert.equal(first['model'], 'gpt-4o');
        assert.deepEqual([first['promptTokens'], first['completionTokens'], first['totalTokens']], [String(usage.prompt_tokens), String(usage.completion_tokens), usage.total_tokens]);
        assert.ok(usage.completion_tokens > 0 && usage.prompt_tokens > 0);
        // The stream's line is written at its end, with the usage of its last chunk.
        assert.equal(second['model'], 'unknown');
        assert.deepEqual([second['promptTokens'], second['completionTokens'], second['totalTokens']], [String(streamedUsage.prompt_tokens), String(streamedUsage.completion_tokens), streamedUsage.total_tokens]);
        assert.equal(streamedUsage.completion_tokens, 11);
        assert.match(String(first['timestamp']), /^\d{4}-\d\d-\d\dT/);
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stream the gateway asked usage for (the client did not) logs its real numbers and the client never sees the usage chunk', async () => {
  const dir = tempDir();
  const path = join(dir, 'usage.jsonl');
  try {
    await withTestGateway(
      {
        apiPolicies: doc('', `<base /><log-to-eventhub logger-id="u">@(context.Response.Headers.GetValueOrDefault("x-ms-total-tokens", "none") + "/" + context.Response.StatusCode)</log-to-eventhub>`),
        config: { loggers: { u: { type: 'file', path, flushIntervalMs: 20 } } },
      },
      async (t) => {
        const res = await postChat(t, { stream: true });
        const text = await res.text();
        assert.doesNotMatch(text, /"usage":\{/);
        await waitFor(() => readLines(path).length === 1, 5000, 'one log line');
        const record = t.usages.at(-1)!;
        assert.equal(record.source, 'backend');
        assert.deepEqual(readLines(path), [`${record.totalTokens}/200`] as unknown as Array<Record<string, unknown>>);
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file logger rotates by size and keeps maxFiles old files, every line whole', async () => {
  const dir = tempDir();
  const path = join(dir, 'logs', 'rotating.jsonl');
  try {
    await withTestGateway(
      {
        apiPolicies: doc(`<log-to-eventhub logger-id="f">@(new JObject(new JProperty("pad", new string('x', 400)), new JProperty("id", context.RequestId.ToString())).ToString())</log-to-eventhub>`, '<base />'),
        config: { loggers: { f: { type: 'file', path, maxBytes: 1024, maxFiles: 2, batchSize: 1, flushIntervalMs: 10 } } },
      },
      async (t) => {
        const ids: string[] = [];
        for (let i = 0; i < 8; i++) {
          const res = await postChat(t);
          ids.push(res.headers.get('x-request-id')!);
          await res.arrayBuffer();
        }
        await waitFor(() => [path, `${path}.1`, `${path}.2`].flatMap(readLines).length >= 5, 5000, 'rotated files');
      },
    );
    // Closing the gateway drained the logger: now the files are final.
    const files = readdirSync(join(dir, 'logs')).sort();
    assert.deepEqual(files, ['rotating.jsonl', 'rotating.jsonl.1', 'rotating.jsonl.2']);
    for (const f of files) {
      const size = readFileSync(join(dir, 'logs', f)).length;
      assert.ok(size <= 1024, `${f} is ${size} bytes`);
      for (const line of readLines(join(dir, 'logs', f))) assert.equal((line['pad'] as string).length, 400);
    }
    // 8 lines of ~460 bytes, two per file: the oldest two were rotated away.
    assert.equal([path, `${path}.1`, `${path}.2`].flatMap(readLines).length, 6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

interface Receiver {
  url: string;
  bodies: unknown[];
  headers: IncomingMessage['headers'][];
  /** Statuses to answer, in order; 200 once used up. */
  script: number[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const bodies: unknown[] = [];
  const headers: IncomingMessage['headers'][] = [];
  const script: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = script.shift() ?? 200;
      if (status === 200) {
        bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        headers.push(req.headers);
      }
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ingest?x=1`,
    bodies,
    headers,
    script,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

test('an http logger POSTs batches as JSON arrays with its headers, and retries a batch the receiver answered 503', async () => {
  const rx = await startReceiver();
  rx.script.push(503, 503);
  try {
    await withTestGateway(
      {
        apiPolicies: doc('', `<base /><log-to-eventhub logger-id="h">@(new JObject(new JProperty("sub", context.Subscription.Id), new JProperty("total", context.Response.Headers.GetValueOrDefault("x-ms-total-tokens", "0"))).ToString())</log-to-eventhub>`),
        extraNamedValues: { 'ingest-token': { value: 'ingest-secret-123', secret: true } },
        config: {
          outbound: { allowPrivateNetworks: true },
          loggers: { h: { type: 'http', url: rx.url, headers: { authorization: 'Bearer {{ingest-token}}' }, batchSize: 3, flushIntervalMs: 60_000, retryBackoffMs: 10 } },
        },
      },
      async (t) => {
        for (let i = 0; i < 3; i++) await (await postChat(t)).arrayBuffer();
        await waitFor(() => rx.bodies.length === 1, 5000, 'one batch');
        const batch = rx.bodies[0] as Array<{ sub: string; total: string }>;
        assert.equal(batch.length, 3);
        assert.deepEqual(
          batch.map((m) => m.total),
          t.usages.slice(0, 3).map((u) => String(u.totalTokens)),
        );
        assert.ok(batch.every((m) => m.sub === 'team-a'));
        assert.equal(rx.headers[0]?.authorization, 'Bearer ingest-secret-123');
        assert.equal(rx.headers[0]?.['content-type'], 'application/json');
        assert.ok(!t.logs.some((l) => l.includes('ingest-secret-123')), 'the credential is never logged');
      },
    );
  } finally {
    await rx.close();
  }
});

test('a logger that cannot write never fails or delays the request: it is reported once, retried, then dropped and counted', async () => {
  // A port nothing listens on.
  const rx = await startReceiver();
  const url = rx.url;
  await rx.close();
  await withTestGateway(
    {
      apiPolicies: doc('<log-to-eventhub logger-id="h">lost</log-to-eventhub>', '<base />'),
      config: { outbound: { allowPrivateNetworks: true }, loggers: { h: { type: 'http', url, batchSize: 1, flushIntervalMs: 10, maxRetries: 1, retryBackoffMs: 10 } } },
    },
    async (t) => {
      for (let i = 0; i < 3; i++) {
        const res = await postChat(t);
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      }
      const dropped = async (): Promise<boolean> => /tollgate_logger_messages_total\{logger="h",result="dropped"\} 3/.test(await (await fetch(`${t.gw.adminUrl}/metrics`)).text());
      await until(dropped, 10_000, 'three dropped');
      const warnings = t.logs.filter((l) => l.includes('usage logger \\"h\\" cannot write') || l.includes('usage logger "h" cannot write'));
      assert.equal(warnings.length, 1, 'one warning per outage, not one per message');
    },
  );
});

test('an http logger aimed at a literal internal address is a load error unless outbound.allowPrivateNetworks is on', () => {
  assert.throws(
    () => loadConfigObject({ loggers: { h: { type: 'http', url: 'http://10.0.0.5/ingest' } } }),
    (err: unknown) => err instanceof ConfigError && err.issues.some((i) => i.path === 'loggers.h.url' && /internal/.test(i.message)),
  );
  assert.throws(
    () => loadConfigObject({ loggers: { h: { type: 'file', path: '/tmp/x', colour: 'blue' } } }),
    (err: unknown) => err instanceof ConfigError && err.issues.some((i) => /colour/.test(i.message) || i.path.includes('colour')),
    'unknown fields in a logger are load errors',
  );
});

test('a redis-stream logger XADDs each message to its stream, capped with MAXLEN ~', async () => {
  const redis = await startRedis();
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await withTestGateway(
      {
        apiPolicies: doc('', '<base /><log-to-eventhub logger-id="r">@(new JObject(new JProperty("total", int.Parse(context.Response.Headers.GetValueOrDefault("x-ms-total-tokens", "0")))).ToString())</log-to-eventhub>'),
        config: { loggers: { r: { type: 'redis-stream', url: redis.url, stream: 'usage:tokens', maxLen: 1000, flushIntervalMs: 20 } } },
      },
      async (t) => {
        await (await postChat(t)).arrayBuffer();
        await (await postChat(t, { stream: true })).text();
        await client.connect();
        let entries: Array<[string, string[]]> = [];
        await until(async () => (entries = await client.xrange('usage:tokens', '-', '+')).length === 2, 5000, 'two stream entries');
        assert.deepEqual(
          entries.map(([, fields]) => JSON.parse(fields[1]!) as unknown),
          t.usages.map((u) => ({ total: u.totalTokens })),
        );
        assert.equal(entries[0]![1][0], 'message');
      },
    );
  } finally {
    client.disconnect();
    await redis.stop();
  }
});

test('a stdout logger writes one JSON line per message; messages queued at shutdown are drained, not lost', async () => {
  const lines: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  const t = await startTestGateway({
    apiPolicies: doc('<log-to-eventhub logger-id="s">@("plain text from " + context.Subscription.Id)</log-to-eventhub>', '<base />'),
    // A long interval: only the shutdown drain writes these.
    config: { loggers: { s: { type: 'stdout', flushIntervalMs: 60_000, batchSize: 1000 } } },
    stdout: out,
  });
  try {
    for (let i = 0; i < 5; i++) await (await postChat(t)).arrayBuffer();
    assert.equal(lines.length, 0);
  } finally {
    await t.close();
  }
  assert.deepEqual(lines, Array(5).fill('"plain text from team-a"'));
});
