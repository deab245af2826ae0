// What an MCP tool call costs the gateway next to the same REST call made directly: gateway CPU
// per call, in alternating slices (REST, MCP, then MCP, REST, ...) so that host drift hits both
// alike. The API is the Azure OpenAI inference spec imported with `openapi:`; the REST call is
// `POST /aoai/deployments/gpt-4o-mini/chat/completions?api-version=2024-02-01`, the MCP call is
// `tools/call ChatCompletions_Create` with the same arguments (one JSON-RPC POST each, stateless).
// Both go to bench/fixed-backend.ts.
// Usage: node bench/mcp-tools.ts [--slices N] [--slice-seconds S] [--concurrency C] [--profile DIR]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { cpuReader, startChild, stopAll, waitReady } from './children.ts';
import { BENCH_KEY, freePort } from './tollgate-target.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SPEC = join(ROOT, 'test/fixtures/openapi/azure-openai-inference-2024-02-01.json');
const BODY = { messages: [{ role: 'user', content: 'hello' }] };

const { values } = parseArgs({
  options: { profile: { type: 'string' }, slices: { type: 'string', default: '10' }, 'slice-seconds': { type: 'string', default: '2' }, concurrency: { type: 'string', default: '8' } },
});
const cycles = Number(values.slices);
const sliceMs = Number(values['slice-seconds']) * 1000;
const concurrency = Number(values.concurrency);

const dir = await mkdtemp(join(tmpdir(), 'tollgate-bench-mcp-'));
try {
  const backend = startChild('backend', ['bench/fixed-backend.ts', '0'], ROOT, '0');
  const backendPort = await waitReady(backend, 20_000);
  const port = await freePort();
  const config = join(dir, 'tollgate.yaml');
  await writeFile(
    config,
    `gateway: { listen: 127.0.0.1:${port} }
admin: { enabled: false }
log: { level: warn }
backends: { fixed: { url: "http://127.0.0.1:${backendPort}/openai" } }
apis:
  aoai: { path: aoai, type: http, backend: fixed, openapi: ${JSON.stringify(SPEC)}, mcp: { enabled: true, tools: [ChatCompletions_Create] } }
products: { bench: { apis: [aoai] } }
subscriptions: { bench: { product: bench, keys: [${BENCH_KEY}] } }
`,
  );
  // --profile DIR: the gateway writes a V8 CPU profile there when it stops.
  const prof = values.profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', resolve(values.profile)];
  const gateway = startChild('tollgate', [...prof, 'src/cli/main.ts', 'start', '--config', config], ROOT, '1');
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await request(`${origin}/`).then((r) => r.body.dump());
      break;
    } catch {
      if (i > 200) throw new Error(`gateway did not start:\n${gateway.tail()}`);
      await sleep(100);
    }
  }
  const cpu = await cpuReader(gateway);

  const rest = async (): Promise<boolean> => {
    const r = await request(`${origin}/aoai/deployments/gpt-4o-mini/chat/completions?api-version=2024-02-01`, {
      method: 'POST',
      headers: { 'api-key': BENCH_KEY, 'content-type': 'application/json' },
      body: JSON.stringify(BODY),
    });
    await r.body.dump();
    return r.statusCode === 200;
  };
  let id = 0;
  const mcp = async (): Promise<boolean> => {
    const message = { jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name: 'ChatCompletions_Create', arguments: { 'deployment-id': 'gpt-4o-mini', 'api-version': '2024-02-01', body: BODY } } };
    const r = await request(`${origin}/aoai/mcp`, {
      method: 'POST',
      headers: { 'api-key': BENCH_KEY, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify(message),
    });
    const text = await r.body.text();
    return r.statusCode === 200 && !text.includes('"isError":true');
  };
  // tools/list: the MCP layer alone (outer request, key, SDK server and transport), no tool call.
  const list = async (): Promise<boolean> => {
    const r = await request(`${origin}/aoai/mcp`, {
      method: 'POST',
      headers: { 'api-key': BENCH_KEY, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method: 'tools/list' }),
    });
    await r.body.dump();
    return r.statusCode === 200;
  };
  for (const [name, call] of [['rest', rest], ['mcp', mcp], ['list', list]] as const) {
    if (!(await call())) throw new Error(`${name} call failed`);
  }

  const slice = async (call: () => Promise<boolean>): Promise<{ calls: number; cpuUs: number; failed: number }> => {
    const before = await cpu.read();
    const end = Date.now() + sliceMs;
    let calls = 0;
    let failed = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < end) {
          if (await call()) calls++;
          else failed++;
        }
      }),
    );
    return { calls, failed, cpuUs: (await cpu.read()) - before };
  };
  // Warm-up: JIT and connection pools for both paths.
  await slice(rest);
  await slice(mcp);
  await slice(list);
  const total = { rest: { calls: 0, cpuUs: 0, failed: 0 }, mcp: { calls: 0, cpuUs: 0, failed: 0 }, list: { calls: 0, cpuUs: 0, failed: 0 } };
  const calls = { rest, mcp, list };
  const ratios: number[] = [];
  for (let c = 0; c < cycles; c++) {
    const order = c % 2 === 0 ? (['rest', 'mcp', 'list'] as const) : (['list', 'mcp', 'rest'] as const);
    const per: Record<string, number> = {};
    for (const name of order) {
      const r = await slice(calls[name]);
      total[name].calls += r.calls;
      total[name].cpuUs += r.cpuUs;
      total[name].failed += r.failed;
      per[name] = r.cpuUs / Math.max(1, r.calls);
    }
    ratios.push((per['mcp'] ?? 0) / (per['rest'] ?? 1));
    console.log(`slice ${c + 1}/${cycles}: rest ${Math.round(per['rest'] ?? 0)} µs/call, mcp ${Math.round(per['mcp'] ?? 0)} µs/call, tools/list ${Math.round(per['list'] ?? 0)} µs`);
  }
  const restUs = total.rest.cpuUs / total.rest.calls;
  const mcpUs = total.mcp.cpuUs / total.mcp.calls;
  console.log(`\ngateway CPU per call over ${cycles} alternating cycles of ${sliceMs / 1000} s at concurrency ${concurrency} (${cpu.source}):`);
  console.log(`  REST  ${restUs.toFixed(0)} µs (${total.rest.calls} calls, ${total.rest.failed} failed)`);
  console.log(`  MCP   ${mcpUs.toFixed(0)} µs (${total.mcp.calls} calls, ${total.mcp.failed} failed)`);
  console.log(`  tools/list ${(total.list.cpuUs / total.list.calls).toFixed(0)} µs (${total.list.calls} calls): the MCP layer without a tool call`);
  console.log(`  MCP − REST = ${(mcpUs - restUs).toFixed(0)} µs per call; ratio ${(mcpUs / restUs).toFixed(2)} (per cycle ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`);
} finally {
  await stopAll();
  await rm(dir, { recursive: true, force: true });
}
