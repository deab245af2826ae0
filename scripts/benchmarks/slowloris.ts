/**
 * Slowloris measurement (RELIABILITY D28): legitimate chat latency (p50/p99) with no attack, then
 * while N sockets send one header byte per second, and when the gateway closed the slow sockets.
 * Loopback only. Run: node scripts/benchmarks/slowloris.ts [sockets=500] [headersTimeoutMs=3000]
 * Prints one JSON line. Not a test: numbers go into reports, not assertions.
 */
import { connect, type Socket } from 'node:net';
import { startTestGateway, TEST_KEY } from '../../test/helpers/gateway.ts';

const SOCKETS = Number(process.argv[2] ?? 500);
const HEADERS_TIMEOUT = Number(process.argv[3] ?? 3000);

const t = await startTestGateway({ logLevel: 'silent', config: { gateway: { listen: '127.0.0.1:0', headersTimeoutMs: HEADERS_TIMEOUT, requestTimeoutMs: 60_000 } } });
const url = new URL(t.url);
const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });

async function latencies(ms: number): Promise<number[]> {
  const out: number[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const start = performance.now();
    const res = await fetch(`${t.url}/v1/chat/completions`, { method: 'POST', headers: { 'api-key': TEST_KEY, 'content-type': 'application/json' }, body });
    await res.arrayBuffer();
    out.push(performance.now() - start);
  }
  return out.sort((a, b) => a - b);
}
const pct = (xs: number[], p: number): number => Math.round((xs[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? 0) * 10) / 10;

await latencies(1000); // warm-up
const baseline = await latencies(4000);

const closedAfter: number[] = [];
const answeredAfter: number[] = [];
const sockets: Socket[] = [];
const timers: NodeJS.Timeout[] = [];
for (let i = 0; i < SOCKETS; i++) {
  const s = connect(Number(url.port), url.hostname);
  const opened = Date.now();
  s.on('error', () => undefined);
  s.once('data', () => answeredAfter.push(Date.now() - opened));
  s.on('close', () => closedAfter.push(Date.now() - opened));
  s.write('GET /v1/models HTTP/1.1\r\nHost: gw\r\nX-Slow: ');
  timers.push(setInterval(() => s.destroyed || s.write('a'), 1000));
  sockets.push(s);
}
const attacked = await latencies(HEADERS_TIMEOUT + 4000);
for (const timer of timers) clearInterval(timer);
const stillOpen = sockets.filter((s) => !s.destroyed).length;
for (const s of sockets) s.destroy();
closedAfter.sort((a, b) => a - b);
answeredAfter.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    sockets: SOCKETS,
    headersTimeoutMs: HEADERS_TIMEOUT,
    baseline: { n: baseline.length, p50: pct(baseline, 0.5), p99: pct(baseline, 0.99) },
    underAttack: { n: attacked.length, p50: pct(attacked, 0.5), p99: pct(attacked, 0.99) },
    slowSockets408Ms: { min: answeredAfter[0] ?? null, median: pct(answeredAfter, 0.5), max: answeredAfter.at(-1) ?? null },
    slowSocketsClosedMs: { min: closedAfter[0] ?? null, median: pct(closedAfter, 0.5), max: closedAfter.at(-1) ?? null, stillOpenAfterWindow: stillOpen },
  }),
);
await t.close();
