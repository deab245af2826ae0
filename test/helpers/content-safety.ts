/**
 * Shared by the content-safety tests: a gateway whose `content-safety` backend is the simulator's
 * Azure AI Content Safety, a chat call, the calls the simulator got, and a fake model backend that
 * streams (or answers) exactly the words a test scripts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestGateway, BACKEND_KEY, TEST_KEY, type TestGateway, type TestGatewayOptions } from './gateway.ts';

export const doc = (inbound: string, outbound = ''): string => `<policies><inbound><base />${inbound}</inbound><backend><base /></backend><outbound><base />${outbound}</outbound></policies>`;

/** The content-safety backend as APIM's docs configure it: the resource URL and its key. */
export const CS_BACKEND = { url: '{{sim-url}}', credentials: { header: { 'Ocp-Apim-Subscription-Key': '{{backend-key}}' } } };

export function startCs(policy: string, opts: TestGatewayOptions = {}): Promise<TestGateway> {
  return startTestGateway({
    apiPolicies: policy,
    logLevel: 'info',
    ...opts,
    extraBackends: { 'content-safety': CS_BACKEND, ...opts.extraBackends },
  });
}

export async function chat(t: { url: string }, messages: unknown[], extra: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'api-key': TEST_KEY, 'content-type': 'application/json', 'x-sim-completion-tokens': '5' },
    body: JSON.stringify({ model: 'gpt-4o', messages, ...extra }),
  });
}

export const user = (content: unknown): unknown[] => [{ role: 'user', content }];

/** Chat calls the model simulator got. */
export function chatCalls(t: TestGateway): number {
  return Object.entries(t.sim.stats.byPath).reduce((n, [path, count]) => (path.endsWith('/chat/completions') ? n + count : n), 0);
}

/** The content-safety calls the simulator recorded (of its last 100 requests). */
export function csCalls(t: TestGateway, op: 'text:analyze' | 'text:shieldPrompt'): Array<{ url: string; headers: Record<string, unknown>; body: Record<string, unknown> }> {
  return t.sim.requests.filter((r) => r.path === `/contentsafety/${op}`).map((r) => ({ url: r.url, headers: r.headers, body: r.body as Record<string, unknown> }));
}

export interface FakeModel {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A model backend that answers every chat call with `words` (one SSE event per word when the
 * request streams, else one JSON answer), ending a stream with a usage chunk and `[DONE]`.
 */
export async function startFakeModel(words: (prompt: string) => string[]): Promise<FakeModel> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { stream?: boolean; messages: Array<{ content: string }> };
      const list = words(String(body.messages.at(-1)?.content ?? ''));
      const base = { id: 'chatcmpl-fake', created: 1, model: 'gpt-4o' };
      if (body.stream !== true) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: list.join('') }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: list.length, total_tokens: 5 + list.length } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const event = (o: unknown): string => `data: ${JSON.stringify(o)}\n\n`;
      let out = event({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
      for (const w of list) out += event({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: w }, finish_reason: null }] });
      out += event({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
      out += event({ ...base, object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 5, completion_tokens: list.length, total_tokens: 5 + list.length } });
      out += 'data: [DONE]\n\n';
      // Written in small pieces, as a model streams (several events per write, events split across writes).
      const bytes = Buffer.from(out);
      let at = 0;
      const step = (): void => {
        if (at >= bytes.length) {
          res.end();
          return;
        }
        const next = Math.min(bytes.length, at + 700);
        const ok = res.write(bytes.subarray(at, next));
        at = next;
        if (ok) setImmediate(step);
        else res.once('drain', step);
      };
      step();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export { BACKEND_KEY, TEST_KEY };
