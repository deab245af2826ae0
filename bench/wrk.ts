// wrk as the load generator. On two cores, a Node load generator (autocannon) costs about as much
// CPU per request as the proxies it measures, so it, not the proxy, set the pace and squeezed every
// ratio toward 1 (the shared harness in the issue measured tollgate at 1.6-2.2x the floor's CPU per
// request while autocannon said ~1.1x). wrk (C, one thread) costs a fraction of that. It is found on
// PATH or installed with apt-get when this runs as root; without it the bench falls back to
// autocannon and says so.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Written once per process: the POST body and headers come from files named in the environment. */
const SCRIPT = `local function slurp(p) local f = assert(io.open(p, "rb")); local s = f:read("*a"); f:close(); return s end
wrk.method = "POST"
wrk.body = slurp(os.getenv("BENCH_BODY_FILE"))
for line in io.lines(os.getenv("BENCH_HEADERS_FILE")) do
  local k, v = line:match("^([^:]+):%s*(.-)%s*$")
  if k then wrk.headers[k] = v end
end
-- A body with "[<id>]" (autocannon's idReplacement marker) gets a number of its own per request
-- in place of the first one: every request's text is new to the gateway (no memo hit).
local pre, post = wrk.body:match("^(.-)%[<id>%](.*)$")
if pre then
  local n = 0
  request = function() n = n + 1; return wrk.format(nil, nil, nil, pre .. n .. post) end
end
function done(s, lat, req)
  local e = s.errors
  io.write(string.format('BENCHJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\\n',
    s.requests, s.duration, e.connect, e.read, e.write, e.status, e.timeout, lat:percentile(50), lat:percentile(99)))
end
`;

let found: string | null | undefined;

function which(cmd: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** The wrk binary, installing it with apt-get (as root) when missing; null when not available. */
export function ensureWrk(log: (line: string) => void = () => {}): string | null {
  if (found !== undefined) return found;
  found = which('wrk');
  if (found === null && process.getuid?.() === 0 && which('apt-get') !== null) {
    log('wrk not found: apt-get install -y wrk');
    try {
      execFileSync('sh', ['-c', 'apt-get install -y wrk >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y wrk >/dev/null 2>&1)'], { stdio: 'ignore', timeout: 300_000 });
    } catch {
      // reported below as "not available"
    }
    found = which('wrk');
  }
  return found;
}

export interface WrkResult {
  requests: number;
  durationS: number;
  errors: number;
  non2xx: number;
  p50Ms: number;
  p99Ms: number;
}

let files: { dir: string; script: string } | undefined;

/** One wrk run (one thread, `connections` connections) POSTing `body` to `url`. */
export async function runWrk(bin: string, url: string, headers: Record<string, string>, body: string, connections: number, durationS: number): Promise<WrkResult> {
  if (files === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-wrk-'));
    files = { dir, script: join(dir, 'post.lua') };
    writeFileSync(files.script, SCRIPT);
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const bodyFile = join(files.dir, 'body.json');
  const headersFile = join(files.dir, 'headers.txt');
  writeFileSync(bodyFile, body);
  writeFileSync(headersFile, Object.entries(headers).map(([k, v]) => `${k}: ${v}\n`).join(''));
  // wrk takes whole seconds only: shorter runs (smoke tests) last one second.
  const args = ['-t1', `-c${connections}`, `-d${Math.max(1, Math.round(durationS))}`, '--timeout', '10s', '-s', files.script, url];
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn(bin, args, { env: { ...process.env, BENCH_BODY_FILE: bodyFile, BENCH_HEADERS_FILE: headersFile }, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    p.stdout.on('data', (b: Buffer) => (text = (text + b.toString('utf8')).slice(-64 * 1024)));
    p.stderr.on('data', (b: Buffer) => (text = (text + b.toString('utf8')).slice(-64 * 1024)));
    p.on('error', reject);
    p.on('close', () => resolve(text));
  });
  const m = /BENCHJSON (\{.*\})/.exec(out);
  if (m === null) throw new Error(`wrk gave no result: ${out.slice(-500)}`);
  const j = JSON.parse(m[1] as string) as Record<string, number>;
  const n = (k: string): number => j[k] ?? 0;
  return {
    requests: n('requests'),
    durationS: n('duration_us') / 1e6,
    errors: n('connect') + n('read') + n('write') + n('timeout'),
    non2xx: n('status'),
    p50Ms: n('p50_us') / 1000,
    p99Ms: n('p99_us') / 1000,
  };
}
