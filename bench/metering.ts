// `node bench/metering.ts [--cycles N] [--slice-seconds S] [--concurrency C]`:
// what the metering policies cost a request. Two gateways in front of the
// same fixed backend, one plain and one with METERING_POLICY (Pattern 5's
// token metric with two expression dimensions, and a log-to-eventhub of a
// JObject message to a file logger), measured in alternating slices
// (bench/slices.ts: drift hits both alike). Prints requests/s of each, the
// ratio, and the gateway's CPU µs per request, and checks the file logger
// wrote one line per request it answered.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuReader, startChild, stopAll, waitReady } from './children.ts';
import { checkTarget } from './measure.ts';
import { alternatingSlices } from './slices.ts';
import type { TargetName } from './report.ts';
import { BENCH_KEY, startTollgate } from './tollgate-target.ts';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = dirname(BENCH_DIR);

const { values } = parseArgs({ options: { cycles: { type: 'string' }, 'slice-seconds': { type: 'string' }, concurrency: { type: 'string' } } });
const cycles = Number(values.cycles ?? 6);
const sliceS = Number(values['slice-seconds'] ?? 2);
const concurrency = Number(values.concurrency ?? 16);

const dir = await mkdtemp(join(tmpdir(), 'tollgate-bench-metering-'));
try {
  const backend = startChild('backend', [join(BENCH_DIR, 'fixed-backend.ts'), '0'], REPO_ROOT);
  const backendPort = await waitReady(backend, 10_000);
  const plain = await startTollgate(REPO_ROOT, backendPort, undefined, {}, 'tollgate');
  const metered = await startTollgate(REPO_ROOT, backendPort, undefined, { meteringDir: dir }, 'metering');
  try {
    const targets = [
      { name: 'tollgate' as TargetName, origin: `http://127.0.0.1:${plain.port}`, cpu: await cpuReader(plain.child) },
      // alternatingSlices names targets by the bench's target names; this one is reported as "metering".
      { name: 'limits' as TargetName, origin: `http://127.0.0.1:${metered.port}`, cpu: await cpuReader(metered.child) },
    ];
    for (const t of targets) await checkTarget(t.origin, BENCH_KEY);
    const result = await alternatingSlices(targets, { cycles, sliceS, concurrency, apiKey: BENCH_KEY }, (line) => console.log(line.replaceAll('limits', 'metering')));
    const [rpsPlain, rpsMetered] = [result.rps['tollgate'] ?? 0, result.rps['limits'] ?? 0];
    const [cpuPlain, cpuMetered] = [result.cpuUsPerReq['tollgate'] ?? Number.NaN, result.cpuUsPerReq['limits'] ?? Number.NaN];
    console.log(`tollgate  ${rpsPlain.toFixed(0)} req/s, ${cpuPlain.toFixed(1)} µs CPU/request`);
    console.log(`metering  ${rpsMetered.toFixed(0)} req/s, ${cpuMetered.toFixed(1)} µs CPU/request`);
    console.log(`metering/tollgate requests/s ${(rpsMetered / rpsPlain).toFixed(3)}; added CPU ${(cpuMetered - cpuPlain).toFixed(1)} µs/request`);
    // Let the logger's last batch land, then count its lines.
    await new Promise((r) => setTimeout(r, 1500));
    const lines = (await readFile(join(dir, 'usage.jsonl'), 'utf8').catch(() => '')).split('\n').filter((l) => l !== '').length;
    console.log(`file logger lines: ${lines}`);
  } finally {
    await plain.cleanup();
    await metered.cleanup();
  }
} finally {
  await stopAll();
  await rm(dir, { recursive: true, force: true });
}
