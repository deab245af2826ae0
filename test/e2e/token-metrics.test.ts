/**
 * llm-emit-token-metric / azure-openai-emit-token-metric and emit-metric: Prometheus counters on
 * the admin /metrics (Pattern 5 verbatim), streamed answers counted at their end with the real
 * usage, the label-set cap, and the OTLP/HTTP export against a local receiver.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { useSimulatedManagedIdentity } from '../helpers/identity.ts';
import { postChat, waitFor, withTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { loadConfigObject, ConfigError } from '../../src/config/load.ts';
import { startGateway } from '../../src/gateway/gateway.ts';

// Pattern 5 authenticates to its backend with <authentication-managed-identity>.
useSimulatedManagedIdentity();

const SEEDS = join(import.meta.dirname, '..', 'fixtures', 'seed-policies');
const pattern5 = readFileSync(join(SEEDS, 'pattern5-multi-tenant.xml'), 'utf8');
const doc = (inbound: string, outbound = '<base />'): string =>
  `<policies><inbound><base />${inbound}</inbound><backend><base /></backend><outbound>${outbound}</outbound><on-error><base /></on-error></policies>`;



async function metrics(t: TestGateway): Promise<string> {
  return (await fetch(`${t.gw.adminUrl}/metrics`)).text();
}

function sample(text: string, metric: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${metric}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('Pattern 5 verbatim: per-tenant Total, Prompt and Completion tokens on /metrics equal the backend\'s usage, streams included', () =>
  withTestGateway({ apiPolicies: `<policies>\n${pattern5}\n<backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`, extraBackends: { 'openai-backend': { urlFromSim: true } } }, async (t) => {
    const plain = await postChat(t);
    assert.equal(plain.status, 200);
    const u1 = ((await plain.json()) as { usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } }).usage;
    const streamed = await postChat(t, { stream: true, max_tokens: 9 });
    assert.equal(streamed.status, 200);
    await streamed.text();
    const u2 = t.usages.at(-1)!;
    assert.equal(u2.source, 'backend');
    assert.equal(u2.completionTokens, 9);
    const text = await metrics(t);
    const labels = 'tenant="team-a",api="openai"';
    assert.equal(sample(text, 'tollgate_custom_ai_gateway_total_tokens', labels), u1.total_tokens + u2.totalTokens);
    assert.equal(sample(text, 'tollgate_custom_ai_gateway_prompt_tokens', labels), u1.prompt_tokens + u2.promptTokens);
    assert.equal(sample(text, 'tollgate_custom_ai_gateway_completion_tokens', labels), u1.completion_tokens + 9);
  }));

test('default dimensions resolve without a value; a request the backend never answered adds no tokens', () =>
  withTestGateway(
    {
      apiPolicies: doc('<llm-emit-token-metric namespace="usage"><dimension name="Subscription ID" /><dimension name="Backend ID" /><dimension name="Operation ID" /><dimension name="User ID" /></llm-emit-token-metric>'),
    },
    async (t) => {
      await (await postChat(t)).arrayBuffer();
      const failed = await postChat(t, {}, { 'x-sim-fail': '500' });
      await failed.arrayBuffer();
      const text = await metrics(t);
      const labels = 'subscription_id="team-a",backend_id="sim",operation_id="ChatCompletions_Create",user_id="N/A"';
      assert.equal(sample(text, 'tollgate_custom_usage_total_tokens', labels), t.usages[0]!.totalTokens);
      assert.equal(text.split('\n').filter((l) => l.startsWith('tollgate_custom_usage_total_tokens{')).length, 1);
    },
  ));

test('label sets past telemetry.maxSeriesPerMetric are counted under one "other" series, with one warning', () =>
  withTestGateway(
    {
      apiPolicies: doc('<llm-emit-token-metric namespace="capped"><dimension name="Tenant" value="@(context.Request.Headers.GetValueOrDefault(&quot;x-tenant&quot;, &quot;none&quot;))" /></llm-emit-token-metric>'),
      config: { telemetry: { maxSeriesPerMetric: 2 } },
    },
    async (t) => {
      for (const tenant of ['a', 'b', 'c', 'd', 'a']) await (await postChat(t, {}, { 'x-tenant': tenant })).arrayBuffer();
      const text = await metrics(t);
      const series = text.split('\n').filter((l) => l.startsWith('tollgate_custom_capped_total_tokens{'));
      assert.deepEqual(
        series.map((l) => l.slice(0, l.indexOf('}') + 1)),
        ['tollgate_custom_capped_total_tokens{tenant="a"}', 'tollgate_custom_capped_total_tokens{tenant="b"}', 'tollgate_custom_capped_total_tokens{tenant="other"}'],
      );
      const total = (i: number): number => t.usages[i]!.totalTokens;
      assert.equal(sample(text, 'tollgate_custom_capped_total_tokens', 'tenant="other"'), total(2) + total(3));
      assert.equal(sample(text, 'tollgate_custom_capped_total_tokens', 'tenant="a"'), total(0) + total(4));
      assert.equal(t.logs.filter((l) => l.includes('reached telemetry.maxSeriesPerMetric') && l.includes('capped_total_tokens')).length, 1);
    },
  ));

test('emit-metric works on a streamed answer; in outbound it runs at the stream\'s end and may count the usage', () =>
  withTestGateway(
    {
      apiPolicies: doc(
        '<emit-metric name="calls" namespace="s" value="1"><dimension name="API ID" /></emit-metric>',
        '<base /><emit-metric name="tokens" namespace="s" value="@(context.Response.Headers.GetValueOrDefault(&quot;x-ms-total-tokens&quot;, &quot;0&quot;))"><dimension name="Streamed" value="@(context.Request.Body.As&lt;JObject&gt;(preserveContent: true)[&quot;stream&quot;] != null ? &quot;yes&quot; : &quot;no&quot;)" /></emit-metric>',
      ),
    },
    async (t) => {
      const s = await postChat(t, { stream: true });
      assert.equal(s.status, 200);
      assert.match(await s.text(), /data: \[DONE\]/);
      const p = await postChat(t);
      assert.equal(p.status, 200);
      await p.arrayBuffer();
      const text = await metrics(t);
      assert.equal(sample(text, 'tollgate_custom_s_calls', 'api_id="openai"'), 2);
      assert.equal(sample(text, 'tollgate_custom_s_tokens', 'streamed="yes"'), t.usages[0]!.totalTokens);
      assert.equal(sample(text, 'tollgate_custom_s_tokens', 'streamed="no"'), t.usages[1]!.totalTokens);
      assert.ok(t.usages[0]!.totalTokens > 0);
    },
  ));

/** Starts a gateway (no simulator: it must not start) and returns its load error. */
async function loadError(policies: string): Promise<string> {
  const loaded = loadConfigObject({
    gateway: { listen: '127.0.0.1:0' },
    admin: { enabled: false },
    log: { level: 'silent' },
    backends: { b: { url: 'http://127.0.0.1:9' } },
    apis: { a: { path: '', type: 'openai', backend: 'b', policies } },
  });
  try {
    const gw = await startGateway(loaded, { defaultMetrics: false });
    await gw.close(0);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  throw new Error('the gateway started');
}

test('more than 10 dimensions, a repeated dimension, or a token metric outside inbound is a load error', async () => {
  const dims = Array.from({ length: 11 }, (_, i) => `<dimension name="d${i}" value="x" />`).join('');
  assert.match(await loadError(doc(`<llm-emit-token-metric>${dims}</llm-emit-token-metric>`)), /at most 10 dimensions/);
  assert.match(await loadError(doc('<llm-emit-token-metric><dimension name="API ID" /><dimension name="api id" /></llm-emit-token-metric>')), /repeats the dimension/);
  assert.match(await loadError(doc('', '<base /><azure-openai-emit-token-metric><dimension name="API ID" /></azure-openai-emit-token-metric>')), /not allowed in the outbound section/);
  assert.throws(() => loadConfigObject({ telemetry: { otlp: { url: 'http://127.0.0.1:4318/v1/metrics', intervalMs: 1000, timeoutMs: 5000 } } }), ConfigError);
});

interface OtlpPoint {
  attributes: Array<{ key: string; value: { stringValue?: string } }>;
  asInt?: string | number;
  asDouble?: number;
}
interface OtlpExport {
  resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: Array<{ name: string; sum?: { dataPoints: OtlpPoint[]; isMonotonic?: boolean } }> }> }>;
}

test('with telemetry.otlp the token metrics are exported over OTLP/HTTP to a local receiver, with the dimension names as attributes', async () => {
  const exports: OtlpExport[] = [];
  const auth: Array<string | undefined> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      assert.equal(req.headers['content-type'], 'application/json');
      auth.push(req.headers['x-collector-key'] as string | undefined);
      exports.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    await withTestGateway(
      {
        apiPolicies: doc('<azure-openai-emit-token-metric namespace="ai-gateway"><dimension name="Tenant" value="@(context.Subscription.Id)" /><dimension name="API ID" /></azure-openai-emit-token-metric>'),
        config: { telemetry: { otlp: { url: `http://127.0.0.1:${port}/v1/metrics`, intervalMs: 200, timeoutMs: 200, headers: { 'x-collector-key': 'k-123' } } } },
      },
      async (t) => {
        await (await postChat(t)).arrayBuffer();
        await (await postChat(t, { stream: true })).text();
        const expected = t.usages[0]!.totalTokens + t.usages[1]!.totalTokens;
        const totalOf = (e: OtlpExport): number | undefined => {
          const m = e.resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics)).find((x) => x.name === 'ai-gateway.Total_Tokens');
          const point = m?.sum?.dataPoints.find((d) => d.attributes.some((a) => a.key === 'Tenant' && a.value.stringValue === 'team-a') && d.attributes.some((a) => a.key === 'API ID' && a.value.stringValue === 'openai'));
          return point === undefined ? undefined : Number(point.asInt ?? point.asDouble);
        };
        await waitFor(() => exports.some((e) => totalOf(e) === expected), 10_000, 'an export with both requests');
        assert.equal(auth.at(-1), 'k-123');
      },
    );
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});
