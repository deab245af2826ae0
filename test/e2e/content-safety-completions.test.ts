/**
 * `enforce-on-completions` and the fail modes, through the gateway with real sockets: a JSON
 * answer is checked before it is sent; a streamed answer is held back window by window, so a
 * flagged word early or late ends the stream with an error event the official openai client
 * raises, and no text of the flagged window reaches the client; the content-safety service down
 * refuses (fail-mode closed) or lets through (open).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startSimulator } from '../../src/simulator/index.ts';
import { BACKEND_KEY, chat, chatCalls, doc, startCs, startFakeModel, TEST_KEY, user, type FakeModel } from '../helpers/content-safety.ts';

const ON_COMPLETIONS = doc(`<llm-content-safety backend-id="content-safety" enforce-on-completions="true">
  <categories output-type="EightSeverityLevels"><category name="Violence" threshold="4" /></categories>
</llm-content-safety>`);

/** 400 words of 8 characters: 3,200 characters, so the default 1,000-character window closes three times before the end. */
const WORDS = Array.from({ length: 400 }, (_, i) => ` word${String(i).padStart(3, '0')}`);
function script(prompt: string): string[] {
  const words = [...WORDS];
  if (prompt === 'early') words[3] = ' cs-violence-6';
  if (prompt === 'late') words[380] = ' cs-violence-6';
  return words;
}

async function withFake(fn: (fake: FakeModel) => Promise<void>): Promise<void> {
  const fake = await startFakeModel(script);
  try {
    await fn(fake);
  } finally {
    await fake.close();
  }
}

async function readStream(client: OpenAI, prompt: string): Promise<{ text: string; error: unknown }> {
  let text = '';
  try {
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: prompt }], stream: true });
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    return { text, error: undefined };
  } catch (error) {
    return { text, error };
  }
}

test('streams: a flagged word early or late ends the stream with an error the openai client raises; nothing from its window is delivered', async () => {
  await withFake(async (fake) => {
    const t = await startCs(ON_COMPLETIONS, { backend: { url: `${fake.url}/openai` } });
    try {
      const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: TEST_KEY, maxRetries: 0 });
      const clean = await readStream(client, 'clean');
      assert.equal(clean.error, undefined);
      assert.equal(clean.text, WORDS.join(''), 'a clean stream arrives whole');

      const early = await readStream(client, 'early');
      assert.ok(early.error instanceof OpenAI.APIError, `an error, not a clean end (got ${String(early.error)})`);
      assert.match(String((early.error as InstanceType<typeof OpenAI.APIError>).message), /blocked by content safety: category Violence/);
      assert.equal(early.text, '', 'the flagged word was in the first window: nothing was delivered');

      const late = await readStream(client, 'late');
      assert.ok(late.error instanceof OpenAI.APIError);
      assert.ok(!late.text.includes('cs-violence'), 'the flagged word never reaches the client');
      assert.ok(late.text.length >= 1000, `the clean windows before it were delivered (${late.text.length} characters)`);
      assert.ok(WORDS.join('').startsWith(late.text), 'what was delivered is the stream\'s clean beginning, unchanged');
      assert.ok(WORDS.join('').length - late.text.length <= 1000 + 32 + 20 * 6, 'cut within one window (plus overlap) of the flagged word');
      const blocked = t.usages.filter((u) => u.errorCode === 'GW_ERR_CONTENT_BLOCKED');
      assert.equal(blocked.length, 2, 'both cut streams have a usage record');
    } finally {
      await t.close();
    }
  });
});

test('JSON answers are checked before they are sent', async () => {
  await withFake(async (fake) => {
    const t = await startCs(ON_COMPLETIONS, { backend: { url: `${fake.url}/openai` } });
    try {
      const bad = await chat(t, user('late'));
      assert.equal(bad.status, 403);
      const body = (await bad.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'GW_ERR_CONTENT_BLOCKED');
      assert.match(body.error.message, /^The response was blocked by content safety: category Violence/);
      assert.ok(!JSON.stringify(body).includes('word0'), 'nothing of the answer');
      const ok = await chat(t, user('clean'));
      assert.equal(ok.status, 200);
      const answer = (await ok.json()) as { choices: Array<{ message: { content: string } }> };
      assert.equal(answer.choices[0]?.message.content, WORDS.join(''));
    } finally {
      await t.close();
    }
  });
});

test('without enforce-on-completions the answer is not checked', async () => {
  await withFake(async (fake) => {
    const t = await startCs(doc('<llm-content-safety backend-id="content-safety"><categories><category name="Violence" threshold="4" /></categories></llm-content-safety>'), { backend: { url: `${fake.url}/openai` } });
    try {
      const r = await chat(t, user('late'));
      assert.equal(r.status, 200);
      await r.arrayBuffer();
    } finally {
      await t.close();
    }
  });
});

for (const [fault, what] of [['500', 'answers 500'], ['hang', 'does not answer within the timeout']] as const) {
  test(`content safety down (it ${what}): fail-mode closed refuses with 503 before the model; open lets the request through`, async () => {
    const cs = await startSimulator({ name: 'cs', requireKey: BACKEND_KEY, fault: { fail: fault } });
    try {
      const backend = { 'content-safety': { url: cs.url, credentials: { header: { 'Ocp-Apim-Subscription-Key': '{{backend-key}}' } } } };
      const config = { contentSafety: { timeoutMs: 300 } };
      const policy = (mode: string): string => doc(`<llm-content-safety backend-id="content-safety" fail-mode="${mode}"><categories><category name="Hate" threshold="2" /></categories></llm-content-safety>`);
      const closed = await startCs(policy('closed'), { extraBackends: backend, config });
      try {
        const r = await chat(closed, user('hello'));
        assert.equal(r.status, 503);
        const body = (await r.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, 'GW_ERR_CONTENT_SAFETY_UNAVAILABLE');
        assert.ok(!body.error.message.includes(cs.url), 'the service URL is not named');
        assert.equal(chatCalls(closed), 0, 'the model was not called');
        assert.ok(closed.logs.some((l) => l.includes('fail-mode closed refuses the request')));
      } finally {
        await closed.close();
      }
      const open = await startCs(policy('open'), { extraBackends: backend, config });
      try {
        const r = await chat(open, user('hello'));
        assert.equal(r.status, 200);
        await r.arrayBuffer();
        assert.ok(open.logs.some((l) => l.includes('fail-mode open lets the request through unchecked')));
      } finally {
        await open.close();
      }
    } finally {
      await cs.close();
    }
  });
}

test('the default fail mode is closed, and contentSafety.failMode changes it', async () => {
  const cs = await startSimulator({ name: 'cs', requireKey: BACKEND_KEY, fault: { fail: '503' } });
  try {
    const backend = { 'content-safety': { url: cs.url, credentials: { header: { 'Ocp-Apim-Subscription-Key': '{{backend-key}}' } } } };
    const policy = doc('<llm-content-safety backend-id="content-safety" shield-prompt="true" />');
    const byDefault = await startCs(policy, { extraBackends: backend });
    try {
      const r = await chat(byDefault, user('hello'));
      assert.equal(r.status, 503);
      await r.arrayBuffer();
    } finally {
      await byDefault.close();
    }
    const open = await startCs(policy, { extraBackends: backend, config: { contentSafety: { failMode: 'open' } } });
    try {
      const r = await chat(open, user('hello'));
      assert.equal(r.status, 200);
      await r.arrayBuffer();
    } finally {
      await open.close();
    }
  } finally {
    await cs.close();
  }
});

test('a stream whose window check fails with fail-mode closed ends with an error event, not a clean end', async () => {
  await withFake(async (fake) => {
    const cs = await startSimulator({ name: 'cs', requireKey: BACKEND_KEY });
    try {
      const backend = { 'content-safety': { url: cs.url, credentials: { header: { 'Ocp-Apim-Subscription-Key': '{{backend-key}}' } } } };
      const t = await startCs(ON_COMPLETIONS, { extraBackends: backend, backend: { url: `${fake.url}/openai` } });
      try {
        // An empty prompt has no text to check (no call), so only the answer's windows meet the fault.
        cs.setFault('500');
        const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: TEST_KEY, maxRetries: 0 });
        const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: '' }], stream: true });
        let error: unknown;
        try {
          for await (const _ of stream) void _;
        } catch (err) {
          error = err;
        }
        assert.ok(error instanceof OpenAI.APIError);
        assert.match(String((error as Error).message), /Content safety could not check/);
      } finally {
        await t.close();
      }
    } finally {
      await cs.close();
    }
  });
});
