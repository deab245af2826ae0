/**
 * Token limits, token quotas, rate limits and call quotas on one gateway (memory store):
 * APIM's statuses, headers and bodies, reserve-then-settle accounting, and the window edge.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TEST_KEY, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { countPromptTokens } from '../../src/tokenizer/index.ts';

const inbound = (xml: string): string => `<policies><inbound><base />${xml}</inbound></policies>`;

function chat(t: TestGateway, opts: { tokens?: number; maxTokens?: number; stream?: boolean; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Response> {
  return fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', 'x-sim-completion-tokens': String(opts.tokens ?? 10), ...opts.headers },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'count these tokens' }], max_tokens: opts.maxTokens ?? 100, ...(opts.stream === true && { stream: true }) }),
    ...(opts.signal && { signal: opts.signal }),
  });
}

const TOKEN_LIMIT = (tpm: number, extra = ''): string =>
  inbound(
    `<llm-token-limit tokens-per-minute="${tpm}" counter-key="@(context.Subscription.Id)" estimate-prompt-tokens="true" remaining-tokens-header-name="x-tokens-remaining" tokens-consumed-header-name="x-tokens-consumed" ${extra} />`,
  );

test('llm-token-limit: 429 with Retry-After and the documented message once tokens per minute are spent', async () => {
  const t = await startTestGateway({ apiPolicies: TOKEN_LIMIT(400) });
  try {
    const first = await chat(t, { tokens: 100, maxTokens: 100 });
    assert.equal(first.status, 200);
    const body = (await first.json()) as { usage: { total_tokens: number } };
    assert.equal(first.headers.get('x-tokens-consumed'), String(body.usage.total_tokens));
    const remaining = Number(first.headers.get('x-tokens-remaining'));
    assert.ok(remaining > 0 && remaining < 400, `remaining after reserving the estimate: ${remaining}`);
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 10 && refused === undefined; i++) {
      const res = await chat(t, { tokens: 100, maxTokens: 100 });
      statuses.push(res.status);
      if (res.status === 429) refused = res;
      else await res.arrayBuffer();
    }
    assert.ok(refused, `a 429 came (${statuses.join(',')})`);
    assert.match(refused.headers.get('retry-after') ?? '', /^\d+$/);
    assert.equal(refused.headers.get('x-tokens-remaining'), '0');
    const err = (await refused.json()) as { error: { code: string; message: string } };
    assert.equal(err.error.code, 'GW_ERR_TOKEN_LIMIT');
    assert.match(err.error.message, /^Token limit is exceeded\. Try again in \d+ seconds\.$/);
  } finally {
    await t.close();
  }
});

test('llm-token-limit: the reservation settles to the real usage, so small answers leave room', async () => {
  // Each request reserves prompt + max_tokens (≈ 110) but really uses ≈ 20: after settling, the
  // budget of 400 admits far more than 400 / 110 requests.
  const t = await startTestGateway({ apiPolicies: TOKEN_LIMIT(400) });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await chat(t, { tokens: 5, maxTokens: 100 });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    assert.ok(statuses.filter((s) => s === 200).length >= 10, statuses.join(','));
  } finally {
    await t.close();
  }
});

test('llm-token-limit: concurrent requests cannot overshoot by more than what is in flight', async () => {
  const t = await startTestGateway({ apiPolicies: TOKEN_LIMIT(1000) });
  try {
    const results = await Promise.all(Array.from({ length: 40 }, () => chat(t, { tokens: 100, maxTokens: 100 }).then(async (r) => {
      const b = r.status === 200 ? ((await r.json()) as { usage: { total_tokens: number } }).usage.total_tokens : (await r.arrayBuffer(), 0);
      return b;
    })));
    const spent = results.reduce((a, b) => a + b, 0);
    assert.ok(spent <= 1000, `tokens admitted ${spent} ≤ the limit (each reservation covered its whole answer)`);
    assert.ok(results.filter((x) => x > 0).length >= 8, 'and the limit was used, not refused early');
  } finally {
    await t.close();
  }
});

test('llm-token-limit: streams are charged their real final usage; failed and aborted requests give their reservation back', async () => {
  const t = await startTestGateway({ apiPolicies: TOKEN_LIMIT(1000) });
  try {
    const remainingAfter = async (res: Response): Promise<number> => {
      await res.arrayBuffer();
      return Number(res.headers.get('x-tokens-remaining'));
    };
    // A backend failure: the reservation is released.
    const failed = await chat(t, { headers: { 'x-sim-fail': '500' }, maxTokens: 500 });
    assert.equal(failed.status, 500);
    await failed.arrayBuffer();
    const probe = await chat(t, { tokens: 1, maxTokens: 1 });
    const afterFailure = await remainingAfter(probe);
    assert.ok(afterFailure > 900, `a failed request costs nothing (remaining ${afterFailure})`);
    // A stream: charged what its usage chunk says.
    const s = await chat(t, { stream: true, tokens: 50, maxTokens: 300 });
    const text = await s.text();
    assert.match(text, /\[DONE\]/);
    const next = await chat(t, { tokens: 1, maxTokens: 1 });
    const afterStream = await remainingAfter(next);
    assert.ok(afterFailure - afterStream >= 50 && afterFailure - afterStream < 200, `the stream cost its ~60 tokens, not its 300+ reservation (${afterFailure} → ${afterStream})`);
  } finally {
    await t.close();
  }
});

test('a refused request consumes nothing', async () => {
  const t = await startTestGateway({ apiPolicies: TOKEN_LIMIT(200) });
  try {
    const big = await chat(t, { maxTokens: 5000 });
    assert.equal(big.status, 429, 'an estimate above the whole limit is refused');
    await big.arrayBuffer();
    const small = await chat(t, { tokens: 5, maxTokens: 20 });
    assert.equal(small.status, 200);
    await small.arrayBuffer();
  } finally {
    await t.close();
  }
});

test('token quota: 403 with the remaining-quota header once the period is spent', async () => {
  const t = await startTestGateway({
    apiPolicies: inbound('<llm-token-limit token-quota="150" token-quota-period="Monthly" counter-key="@(context.Subscription.Id)" estimate-prompt-tokens="false" remaining-quota-tokens-header-name="x-quota-remaining" />'),
  });
  try {
    const a = await chat(t, { tokens: 100 });
    assert.equal(a.status, 200);
    assert.ok(Number(a.headers.get('x-quota-remaining')) >= 150 - 1);
    await a.arrayBuffer();
    const b = await chat(t, { tokens: 100 });
    assert.equal(b.status, 200, 'not refused before the overrun is known');
    await b.arrayBuffer();
    const c = await chat(t, { tokens: 1 });
    assert.equal(c.status, 403);
    assert.equal(c.headers.get('x-quota-remaining'), '0');
    const err = (await c.json()) as { error: { code: string; message: string } };
    assert.equal(err.error.code, 'GW_ERR_TOKEN_QUOTA');
    assert.match(err.error.message, /^Token quota is exceeded\. Try again in [\d.:]+\.$/);
    assert.match(c.headers.get('retry-after') ?? '', /^\d+$/);
  } finally {
    await t.close();
  }
});

test('rate-limit-by-key: calls per renewal period with its headers; the seed\'s X-Agent-Id key', async () => {
  const t = await startTestGateway({
    apiPolicies: inbound(
      '<rate-limit-by-key calls="3" renewal-period="60" counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;X-Agent-Id&quot;, &quot;anonymous&quot;))" remaining-calls-header-name="x-calls-left" total-calls-header-name="x-calls-total" />',
    ),
  });
  try {
    const run = async (agent: string): Promise<Array<[number, string | null]>> => {
      const out: Array<[number, string | null]> = [];
      for (let i = 0; i < 4; i++) {
        const res = await chat(t, { headers: { 'x-agent-id': agent }, tokens: 1, maxTokens: 1 });
        out.push([res.status, res.headers.get('x-calls-left')]);
        if (res.status === 429) {
          const body = (await res.json()) as { error: { message: string } };
          assert.match(body.error.message, /^Rate limit is exceeded\. Try again in \d+ seconds\.$/);
          assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
        } else await res.arrayBuffer();
      }
      return out;
    };
    assert.deepEqual(await run('agent-1'), [[200, '2'], [200, '1'], [200, '0'], [429, '0']]);
    assert.deepEqual((await run('agent-2')).map((x) => x[0]), [200, 200, 200, 429], 'each key has its own counter');
  } finally {
    await t.close();
  }
});

test('rate-limit-by-key increment-condition: calls that fail the condition are given back', async () => {
  const t = await startTestGateway({
    apiPolicies: inbound('<rate-limit-by-key calls="2" renewal-period="60" counter-key="k" increment-condition="@(context.Response.StatusCode == 200)" />'),
  });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await chat(t, { headers: { 'x-sim-fail': '500' } });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    assert.deepEqual(statuses, [500, 500, 500, 500], 'failed calls never use the rate limit');
  } finally {
    await t.close();
  }
});

test('quota-by-key: 403 "Out of call volume quota" with the time to renewal', async () => {
  const t = await startTestGateway({ apiPolicies: inbound('<quota-by-key calls="2" renewal-period="3600" counter-key="@(context.Subscription.Id)" />') });
  try {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 3; i++) {
      last = await chat(t, { tokens: 1, maxTokens: 1 });
      statuses.push(last.status);
      if (i < 2) await last.arrayBuffer();
    }
    assert.deepEqual(statuses, [200, 200, 403]);
    const err = (await last!.json()) as { error: { code: string; message: string } };
    assert.equal(err.error.code, 'GW_ERR_QUOTA');
    assert.match(err.error.message, /^Out of call volume quota\. Quota will be replenished in \d\d:\d\d:\d\d\.$/);
  } finally {
    await t.close();
  }
});

test('the window edge: 200 calls just before and 200 just after a minute boundary admit at most the limit (+2%) in any 60 s', async () => {
  let now = Date.UTC(2026, 0, 5, 12, 0, 59, 950);
  const t = await startTestGateway({
    apiPolicies: inbound('<rate-limit-by-key calls="100" renewal-period="60" counter-key="edge" />'),
    clock: () => now,
  });
  try {
    const burst = async (): Promise<number> => {
      const res = await Promise.all(Array.from({ length: 200 }, () => chat(t, { tokens: 1, maxTokens: 1 }).then(async (r) => (await r.arrayBuffer(), r.status))));
      return res.filter((s) => s === 200).length;
    };
    const before = await burst();
    now += 100; // 50 ms after the boundary
    const after = await burst();
    assert.equal(before, 100);
    assert.ok(before + after <= 102, `admitted ${before} + ${after}`);
  } finally {
    await t.close();
  }
});

/** Remaining tokens right after a 1-token probe, and what that probe itself reserved. */
async function probeRemaining(t: TestGateway): Promise<{ remaining: number; reserved: number }> {
  const res = await chat(t, { tokens: 1, maxTokens: 1 });
  await res.arrayBuffer();
  const body = { messages: [{ role: 'user', content: 'count these tokens' }] };
  return { remaining: Number(res.headers.get('x-tokens-remaining')), reserved: countPromptTokens(body, 'chat', 'gpt-4o') + 1 };
}

test('concurrent streams (RELIABILITY A4): admitted tokens stay within the limit plus one max_tokens, and the counter ends equal to the streams\' real usage', async () => {
  const t = await startTestGateway({ apiPolicies: TOKEN_LIMIT(5000) });
  try {
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        chat(t, { stream: true, tokens: 1000, maxTokens: 1000 }).then(async (r) => ({ status: r.status, text: await r.text(), id: r.headers.get('x-request-id') })),
      ),
    );
    const admitted = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    assert.equal(admitted.length + refused.length, 20);
    await waitFor(() => t.usages.filter((u) => u.streamed).length === 20, 5000, 'usage records');
    const streamed = t.usages.filter((u) => u.streamed && u.status === 200);
    const completion = streamed.reduce((a, u) => a + u.completionTokens, 0);
    assert.ok(completion <= 5000 + 1000, `admitted completion tokens ${completion}`);
    assert.ok(streamed.every((u) => u.source === 'backend'), 'counted from the final usage chunk');
    const spent = streamed.reduce((a, u) => a + u.totalTokens, 0);
    const { remaining, reserved } = await probeRemaining(t);
    assert.equal(remaining, Math.max(0, 5000 - spent - reserved), 'the counter equals the real usage (no estimate left behind)');
  } finally {
    await t.close();
  }
});

test('no leaked reservations (RELIABILITY A9): after client aborts, backend failures and normal requests, the counter equals what was really used', async () => {
  const t = await startTestGateway({ apiPolicies: TOKEN_LIMIT(1_000_000) });
  try {
    const jobs: Array<Promise<unknown>> = [];
    for (let i = 0; i < 30; i++) {
      if (i % 3 === 0) {
        const ac = new AbortController();
        jobs.push(
          chat(t, { stream: true, tokens: 200, maxTokens: 200, signal: ac.signal, headers: { 'x-sim-tokens-per-second': '200' } })
            .then(async (r) => {
              const reader = r.body!.getReader();
              await reader.read();
              ac.abort();
            })
            .catch(() => undefined),
        );
      } else if (i % 3 === 1) {
        jobs.push(chat(t, { maxTokens: 300, headers: { 'x-sim-fail': '502' } }).then((r) => r.arrayBuffer()));
      } else {
        jobs.push(chat(t, { tokens: 20, maxTokens: 300 }).then((r) => r.arrayBuffer()));
      }
    }
    await Promise.all(jobs);
    await waitFor(() => t.usages.length >= 30, 5000, 'usage records');
    const spent = t.usages.reduce((a, u) => a + (u.source === 'none' ? 0 : u.totalTokens), 0);
    assert.ok(t.usages.some((u) => u.status === 499), 'some clients left mid-stream');
    assert.ok(t.usages.some((u) => u.status === 502 && u.totalTokens === 0), 'backend failures used nothing');
    const { remaining, reserved } = await probeRemaining(t);
    assert.equal(remaining, 1_000_000 - spent - reserved);
  } finally {
    await t.close();
  }
});
