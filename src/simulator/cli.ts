/**
 * @module
 * `tollgate simulate`: runs the simulator in the foreground until SIGINT/SIGTERM.
 * Exit codes: 0 after a clean stop, 2 for bad flags, 1 when it cannot listen.
 */
import { parseArgs } from 'node:util';
import { startSimulator } from './server.ts';
import { SimulatorOptionError } from './options.ts';
import type { SimulatorOptions } from './options.ts';

export const SIMULATE_USAGE = `Usage: tollgate simulate [--port P] [--host H] [--name NAME] [--tpm N] [--rpm N]
                         [--latency-ms N] [--tokens-per-second N] [--fail-rate F]
                         [--require-key K] [--require-entra] [--seed N] [--models a,b,c]

Runs an OpenAI/Azure-OpenAI-compatible backend simulator (default 127.0.0.1:4010).
Paths: /v1/..., /openai/v1/..., /openai/deployments/{id}/... (chat/completions, completions,
embeddings) and GET /v1/models. Per-request faults: x-sim-fail: 500|502|503|429|hang|reset|
cut-after:N|stall-after:N; x-sim-latency-ms: N; x-sim-completion-tokens: N.
Standing fault (every request until cleared, e.g. to try failover by hand):
  curl -X PUT <url>/_sim/fault -d '{"fail":"429","retryAfterSeconds":5}'   ('{"fail":null}' clears)
Identity (docs/identity.md): managed identity at /msi/token (IDENTITY_ENDPOINT=<url>/msi/token,
IDENTITY_HEADER=tollgate-sim-identity-header) and IMDS, OAuth2 at /<tenant>/oauth2/v2.0/token,
OpenID configuration at /<tenant>/v2.0/.well-known/openid-configuration; test client tokens:
  curl -X POST <url>/_sim/identity/token -d '{"audience":"api://my-api","claims":{"roles":["chat"]}}'
--require-entra: model routes accept only unexpired bearer tokens this simulator issued.
`;

const DEFAULT_CLI_PORT = 4010;

export interface SimulateCliDeps {
  stdout?: { write(text: string): unknown };
  stderr?: { write(text: string): unknown };
  /** Stops the simulator like SIGTERM does; lets tests drive the CLI in-process. */
  signal?: AbortSignal;
}

class UsageError extends Error {}

function intFlag(flag: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got '${raw}'`);
  }
  return value;
}

function parseFlags(argv: string[]): SimulatorOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        name: { type: 'string' },
        tpm: { type: 'string' },
        rpm: { type: 'string' },
        'latency-ms': { type: 'string' },
        'tokens-per-second': { type: 'string' },
        'fail-rate': { type: 'string' },
        'require-key': { type: 'string' },
        'require-entra': { type: 'boolean' },
        seed: { type: 'string' },
        models: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const flags = parsed.values;
  if (flags.help === true) return 'help';
  const failRateRaw = flags['fail-rate'];
  const failRate = failRateRaw === undefined ? undefined : Number(failRateRaw);
  if (failRate !== undefined && (failRateRaw?.trim() === '' || !Number.isFinite(failRate) || failRate < 0 || failRate > 1)) {
    throw new UsageError(`--fail-rate must be a number from 0 to 1, got '${failRateRaw}'`);
  }
  if (flags['require-key'] === '') throw new UsageError('--require-key must not be empty');
  const models = flags.models?.split(',').map((model) => model.trim()).filter((model) => model !== '');
  if (models?.length === 0) throw new UsageError('--models must list at least one model id');
  return {
    port: intFlag('port', flags.port, 0, 65535) ?? DEFAULT_CLI_PORT,
    host: flags.host,
    name: flags.name,
    tpm: intFlag('tpm', flags.tpm, 0, Number.MAX_SAFE_INTEGER),
    rpm: intFlag('rpm', flags.rpm, 0, Number.MAX_SAFE_INTEGER),
    latencyMs: intFlag('latency-ms', flags['latency-ms'], 0, 600_000),
    tokensPerSecond: intFlag('tokens-per-second', flags['tokens-per-second'], 0, 1_000_000),
    failRate,
    requireKey: flags['require-key'],
    requireEntra: flags['require-entra'],
    seed: intFlag('seed', flags.seed, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    models,
  };
}

function waitForStop(signal: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    function stop(reason: string): void {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      signal.removeEventListener('abort', onAbort);
      resolve(reason);
    }
    const onSigint = (): void => stop('SIGINT');
    const onSigterm = (): void => stop('SIGTERM');
    const onAbort = (): void => stop('abort');
    process.once('SIGINT', onSigint);
    process.once('SIGTERM', onSigterm);
    if (signal.aborted) stop('abort');
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `tollgate simulate` with `argv` (the arguments after `simulate`). Resolves once the
 * simulator has stopped; sets `process.exitCode` to 2 on bad flags and 1 when it cannot listen.
 *
 * @example
 * await runSimulateCli(['--port', '4010', '--tpm', '30000', '--latency-ms', '50']);
 */
export async function runSimulateCli(argv: string[], deps: SimulateCliDeps = {}): Promise<void> {
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  let options: SimulatorOptions | 'help';
  try {
    options = parseFlags(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderr.write(`tollgate simulate: ${error.message}\n\n${SIMULATE_USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options === 'help') {
    stdout.write(SIMULATE_USAGE);
    return;
  }

  // Handlers go in before the URL is printed: a supervisor that signals as soon as it reads the
  // URL must get a clean stop, not the default kill.
  const cancel = new AbortController();
  const stopped = waitForStop(deps.signal === undefined ? cancel.signal : AbortSignal.any([deps.signal, cancel.signal]));
  let simulator;
  try {
    simulator = await startSimulator(options);
  } catch (error) {
    cancel.abort();
    await stopped;
    const message = error instanceof Error ? error.message : String(error);
    stderr.write(`tollgate simulate: ${message}\n`);
    process.exitCode = error instanceof SimulatorOptionError ? 2 : 1;
    return;
  }
  stdout.write(`tollgate simulator '${simulator.name}' listening on ${simulator.url}\n`);
  const reason = await stopped;
  await simulator.close();
  stdout.write(`tollgate simulator '${simulator.name}' stopped (${reason})\n`);
}
