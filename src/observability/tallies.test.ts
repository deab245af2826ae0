import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import { TalliedCounter, TalliedHistogram } from './tallies.ts';
import { Metrics } from './metrics.ts';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

void test('tallied counters and histograms write the same /metrics text as prom-client fed call by call', async () => {
  const reference = new Registry();
  const refCount = new Counter({ name: 'x_requests_total', help: 'h1', labelNames: ['api', 'operation', 'status'], registers: [reference] });
  const refHist = new Histogram({ name: 'x_duration_seconds', help: 'h2', labelNames: ['api', 'operation'], buckets: BUCKETS, registers: [reference] });

  const tallied = new Registry();
  const count = new TalliedCounter('x_requests_total', 'h1', ['api', 'operation', 'status'], tallied);
  const hist = new TalliedHistogram({ name: 'x_duration_seconds', help: 'h2', labelNames: ['api', 'operation'], buckets: BUCKETS, registry: tallied });

  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const apis = ['openai', 'a "quoted" api', 'other\\api'];
  const ops = ['ChatCompletions_Create', 'Embeddings_Create'];
  const statuses = [200, 429, 499, 502];
  // Durations on and around every bucket bound, above the last one, and zero.
  const durations = [0, 120, 121, 1e-9, ...BUCKETS, ...BUCKETS.map((b) => b * 1.0001)];
  for (let i = 0; i < 2000; i++) {
    const api = apis[Math.floor(rnd() * apis.length)] as string;
    const operation = ops[Math.floor(rnd() * ops.length)] as string;
    const status = statuses[Math.floor(rnd() * statuses.length)] as number;
    const seconds = i < durations.length ? (durations[i] as number) : rnd() * rnd() * 3;
    refCount.labels(api, operation, String(status)).inc();
    refHist.labels(api, operation).observe(seconds);
    count.child(`${api}\u0000${operation}\u0000${status}`, () => ({ api, operation, status: String(status) })).value += 1;
    hist.observeIn(hist.series(`${api}\u0000${operation}`, () => ({ api, operation })), seconds);
  }
  assert.equal(await tallied.metrics(), await reference.metrics());
  assert.deepEqual((await hist.get()).values, (await refHist.get()).values);
});

void test('a reset histogram exports no series, and a counter adds to the label set it was given', async () => {
  const registry = new Registry();
  const count = new TalliedCounter('y_total', 'h', ['k'], registry);
  const hist = new TalliedHistogram({ name: 'y_seconds', help: 'h', labelNames: ['k'], buckets: [1], registry });
  count.child('a', () => ({ k: 'a' })).value += 2;
  count.child('a', () => ({ k: 'unused' })).value += 3;
  hist.observeIn(hist.series('a', () => ({ k: 'a' })), 0.5);
  hist.reset();
  const text = await registry.metrics();
  assert.match(text, /^y_total\{k="a"\} 5$/m);
  assert.doesNotMatch(text, /y_seconds_(bucket|sum|count)/);
});

void test('token counts past 2,000 label sets go to deployment "other", and requests count by status', async () => {
  const metrics = new Metrics({ defaultMetrics: false });
  for (let i = 0; i < 1000; i++) {
    metrics.recordTokens('openai', `model-${i}`, 'prompt', 1);
    metrics.recordTokens('openai', `model-${i}`, 'completion', 2);
  }
  metrics.recordTokens('openai', 'model-1', 'prompt', 5); // an existing label set still counts as itself
  metrics.recordTokens('openai', 'late-a', 'prompt', 3);
  metrics.recordTokens('openai', 'late-b', 'prompt', 4);
  metrics.recordTokens('openai', 'late-b', 'completion', 0); // nothing to count
  metrics.recordRequest('openai', 'ChatCompletions_Create', 200, 0.002);
  metrics.recordRequest('openai', 'ChatCompletions_Create', 200, 0.2);
  metrics.recordRequest('openai', 'ChatCompletions_Create', 429, 0.001);
  const text = await metrics.registry.metrics();
  assert.match(text, /^tollgate_tokens_total\{api="openai",deployment="model-1",type="prompt"\} 6$/m);
  assert.match(text, /^tollgate_tokens_total\{api="openai",deployment="other",type="prompt"\} 7$/m);
  assert.doesNotMatch(text, /late-/);
  assert.match(text, /^tollgate_requests_total\{api="openai",operation="ChatCompletions_Create",status="200"\} 2$/m);
  assert.match(text, /^tollgate_requests_total\{api="openai",operation="ChatCompletions_Create",status="429"\} 1$/m);
  assert.match(text, /^tollgate_request_duration_seconds_bucket\{le="0.0025",api="openai",operation="ChatCompletions_Create"\} 2$/m);
  assert.match(text, /^tollgate_request_duration_seconds_count\{api="openai",operation="ChatCompletions_Create"\} 3$/m);
});
