import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { runSimulateCli } from './cli.ts';
import { readJson, useSimulator, waitUntil } from './test-support.ts';

function capture(): { write(text: string): boolean; text: () => string } {
  let buffer = '';
  return {
    write(text: string) {
      buffer += text;
      return true;
    },
    text: () => buffer,
  };
}

async function runWithBadFlags(argv: string[]): Promise<{ code: number | string | null | undefined; stderr: string }> {
  const stderr = capture();
  const previous = process.exitCode;
  await runSimulateCli(argv, { stdout: capture(), stderr });
  const code = process.exitCode;
  process.exitCode = previous;
  return { code, stderr: stderr.text() };
}

void test('bad flags print a clear error and set exit code 2', async () => {
  const cases: [string[], RegExp][] = [
    [['--tpm', 'abc'], /--tpm must be an integer/],
    [['--port', '70000'], /--port must be an integer from 0 to 65535/],
    [['--fail-rate', '1.5'], /--fail-rate must be a number from 0 to 1/],
    [['--latency-ms=-5'], /--latency-ms must be an integer/],
    [['--latency-ms', '-5'], /argument is ambiguous/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['stray'], /positional/i],
    [['--require-key', ''], /--require-key must not be empty/],
  ];
  for (const [argv, message] of cases) {
    const { code, stderr } = await runWithBadFlags(argv);
    assert.equal(code, 2, argv.join(' '));
    assert.match(stderr, message);
    assert.match(stderr, /Usage: tollgate simulate/);
  }
});

void test('a port already in use is reported with exit code 1', async (t) => {
  const taken = await useSimulator(t);
  const stderr = capture();
  const previous = process.exitCode;
  await runSimulateCli(['--port', String(taken.port)], { stdout: capture(), stderr });
  const code = process.exitCode;
  process.exitCode = previous;
  assert.equal(code, 1);
  assert.match(stderr.text(), /EADDRINUSE/);
});

void test('the CLI prints its URL, serves, and stops when signalled', async () => {
  const stdout = capture();
  const stop = new AbortController();
  const running = runSimulateCli(['--port', '0', '--name', 'cli-sim', '--tpm', '1000', '--models', 'm1,m2'], {
    stdout,
    stderr: capture(),
    signal: stop.signal,
  });
  await waitUntil(() => /listening on (http:\/\/\S+)/.test(stdout.text()));
  const url = /listening on (http:\/\/\S+)/.exec(stdout.text())?.[1] ?? '';
  const res = await fetch(`${url}/v1/models`);
  assert.equal(res.headers.get('x-sim-name'), 'cli-sim');
  assert.equal(res.headers.get('x-ratelimit-limit-tokens'), '1000');
  const models = await readJson<{ data: { id: string }[] }>(res);
  assert.deepEqual(models.data.map((model) => model.id), ['m1', 'm2']);
  stop.abort();
  await running;
  assert.match(stdout.text(), /stopped/);
  await assert.rejects(fetch(`${url}/v1/models`));
});

void test('as a process it exits cleanly on SIGTERM', async () => {
  const entry = fileURLToPath(new URL('./index.ts', import.meta.url));
  const script = `import { runSimulateCli } from ${JSON.stringify(entry)}; await runSimulateCli(process.argv.slice(1));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, '--', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  await waitUntil(() => output.includes('listening on'), 5000);
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
  assert.match(output, /stopped \(SIGTERM\)/);
});
