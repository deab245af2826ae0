/**
 * `tollgate` command line: start, validate, policy set, api import, mcp manifest, status, usage, simulate.
 * @module
 */
import { HelpRequested, UsageError, parseCommandArgs } from './args.ts';
import { ConfigError, loadConfigFile, loadConfigObject, formatIssue, type LoadedConfig } from '../config/load.ts';
import { startGateway } from '../gateway/gateway.ts';
import { buildRuntime } from '../gateway/runtime.ts';
import { fetchApiSpecs } from '../config/remote-specs.ts';
import { Metrics } from '../observability/metrics.ts';
import { createLogger } from '../observability/logger.ts';
import { VERSION } from '../version.ts';
import type { startDemo } from './demo.ts';
import { redactSecrets } from '../secrets/redactor.ts';

const USAGE = `tollgate ${VERSION}: a self-hosted AI gateway

Usage:
  tollgate start [--config FILE] [--listen HOST:PORT] [--admin-listen HOST:PORT]
      Start the gateway. Without --config: the demo (simulated backends, a printed key).
  tollgate validate --config FILE
      Check a configuration and its policy documents; prints file:line:col: message for each
      problem, exits 1 if any.
  tollgate policy set --config FILE --scope global|product:ID|api:ID|operation:API/OP --file POLICY
      Point a scope at a policy document (the seeds' "Set Backend Policy" step); validates first.
  tollgate api import --config FILE --api-id ID --path PATH --specification FILE|URL [--service-url URL]
      Import an OpenAPI/Swagger description as an API (the seeds' "az apim api import"): its
      operations become the API's; a URL is fetched through the outbound SSRF guard and saved
      beside the config. Writes the config (comments kept) only if the result loads.
  tollgate mcp manifest --api ID [--config FILE] [--client vscode|claude-desktop|claude-code|cursor|all]
      Print the client configuration for the API's MCP server (URL, transport, key header).
  tollgate status [--admin URL | --config FILE] [--admin-key KEY] [--json]
      Show a running gateway's backends: circuit breaker state, time left, last trip, recent
      error rate, and pool members (reads the admin listener's /status; the admin key, when
      admin.keys is set, from --admin-key or TOLLGATE_ADMIN_KEY).
  tollgate usage [--by subscription|product|deployment|day] [--since WHEN] [--until WHEN]
                 [--json] [--config FILE]
      Requests, tokens and cost from the usage ledger (the config's ledger; without --config, the
      demo's). WHEN is a date or time (2026-01-31, 2026-01-31T12:00:00Z) or a duration back from
      now (30m, 24h, 7d, 4w).
  tollgate simulate [--port P] [--host H] [--name NAME] [--tpm N] [--rpm N] [--latency-ms N]
                    [--tokens-per-second N] [--fail-rate F] [--require-key K] [--seed N] [--models a,b]
      Run the OpenAI-compatible simulator alone.
  tollgate version | help
  tollgate COMMAND --help
      Show this text (exit 0).

Exit status: 0 ok, 1 runtime failure (bad config, port in use, unreachable admin), 2 usage error
(unknown command or option, bad flag value), 128+N after a second signal N during a drain.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest);
    case 'validate':
      return validate(rest);
    case 'policy':
      return (await import('./policy-set.ts')).policySet(rest);
    case 'api':
      return (await import('./api-import.ts')).apiCommand(rest);
    case 'mcp':
      return (await import('./mcp-manifest.ts')).mcpCommand(rest);
    case 'status':
      return (await import('./status.ts')).status(rest);
    case 'usage':
      return (await import('./usage.ts')).usage(rest);
    case 'simulate':
      // runSimulateCli reports bad flags (2) and listen failures (1) through process.exitCode.
      await (await import('../simulator/index.ts')).runSimulateCli(rest);
      return typeof process.exitCode === 'number' ? process.exitCode : 0;
    case 'version':
    case '--version':
      console.log(VERSION);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`tollgate: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

async function validate(args: string[]): Promise<number> {
  const values = parseCommandArgs(args, { config: { type: 'string', short: 'c' } });
  if (values.config === undefined) {
    console.error('tollgate validate: --config FILE is required');
    return 2;
  }
  try {
    const loaded = await fetchApiSpecs(loadConfigFile(values.config));
    const c = loaded.config;
    // Compiling the runtime checks every policy document and expression, as `start` would.
    const runtime = buildRuntime(loaded, { metrics: new Metrics({ defaultMetrics: false }), logger: createLogger('silent'), now: () => performance.now() });
    await runtime.close();
    for (const notice of runtime.notices) console.log(redactSecrets(`notice: ${notice}`));
    console.log(
      `${values.config}: ok (${Object.keys(c.backends).length} backends, ${Object.keys(c.apis).length} apis, ` +
        `${Object.keys(c.products).length} products, ${Object.keys(c.subscriptions).length} subscriptions)`,
    );
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const issue of err.issues) console.error(formatIssue(issue));
      return 1;
    }
    throw err;
  }
}

async function start(args: string[]): Promise<number> {
  const values = parseCommandArgs(args, {
    config: { type: 'string', short: 'c' },
    listen: { type: 'string' },
    'admin-listen': { type: 'string' },
  });
  let loaded: LoadedConfig;
  let demo: Awaited<ReturnType<typeof startDemo>> | undefined;
  try {
    if (values.config !== undefined) {
      loaded = loadConfigFile(values.config);
      if (values.listen !== undefined || values['admin-listen'] !== undefined) {
        const c = loaded.config;
        loaded = { ...loaded, config: { ...c, gateway: { ...c.gateway, listen: values.listen ?? c.gateway.listen }, admin: { ...c.admin, listen: values['admin-listen'] ?? c.admin.listen } } };
      }
    } else {
      // Imported here: the demo's simulators (and the other commands' modules) are not loaded
      // by a gateway started from a config, which keeps its resident memory down.
      const { startDemo } = await import('./demo.ts');
      demo = await startDemo(process.env, values.listen ?? '127.0.0.1:8080', values['admin-listen'] ?? '127.0.0.1:8081');
      loaded = loadConfigObject(demo.config, process.env, '<demo>');
    }
  } catch (err) {
    // The demo's simulators are already listening: stop them, or the process would never exit.
    await Promise.allSettled((demo?.simulators ?? []).map((s) => s.close()));
    if (err instanceof ConfigError) {
      for (const issue of err.issues) console.error(formatIssue(issue));
      return 1;
    }
    throw err;
  }

  let gateway;
  try {
    gateway = await startGateway(loaded);
  } catch (err) {
    await Promise.allSettled((demo?.simulators ?? []).map((s) => s.close()));
    if (err instanceof ConfigError) {
      for (const issue of err.issues) console.error(formatIssue(issue));
      return 1;
    }
    // A ListenError names the listener and its address ("admin listener 127.0.0.1:8081: address
    // already in use"); startGateway has stopped everything it started, so returning exits.
    console.error(`tollgate: cannot start: ${(err as Error).message}`);
    return 1;
  }

  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals | 'parent exited'): void => {
      if (stopping) {
        console.error(`tollgate: ${signal} again, exiting now`);
        process.exit(130);
      }
      stopping = true;
      console.error(`tollgate: ${signal === 'parent exited' ? 'the npm process that started it exited' : `${signal} received`}, draining (Ctrl-C again to force)`);
      gateway
        .close()
        .then(() => Promise.allSettled((demo?.simulators ?? []).map((s) => s.close())))
        .finally(resolve)
        .catch(() => undefined);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    watchNpmParent(() => stop('parent exited'));
    // SIGHUP reloads the config file; a config that does not load leaves the running one in force.
    if (values.config === undefined) {
      // Without this handler SIGHUP's default action would kill the demo outright.
      process.on('SIGHUP', () => console.error('tollgate: SIGHUP ignored: the demo has no config file to reload'));
    } else {
      const file = values.config;
      process.on('SIGHUP', () => {
        let next: LoadedConfig;
        try {
          next = loadConfigFile(file);
        } catch (err) {
          if (err instanceof ConfigError) for (const issue of err.issues) console.error(`reload refused: ${formatIssue(issue)}`);
          else console.error(`reload refused: ${(err as Error).message}`);
          return;
        }
        gateway.reload(next).then(
          () => console.error(`tollgate: configuration reloaded from ${file}`),
          (err: unknown) => {
            if (err instanceof ConfigError) for (const issue of err.issues) console.error(`reload refused: ${formatIssue(issue)}`);
            else console.error(`reload refused: ${(err as Error).message}`);
          },
        );
      });
    }
  });
  // Printed only now that the signal handlers are in place: whoever reads the pid may signal it at once.
  if (demo !== undefined) printDemoBanner(gateway.url, gateway.adminUrl, demo.key, demo.simulators, demo.ledgerPath);
  // The pid is the one to signal (HUP reloads, INT/TERM drain): README's "Signals".
  else console.log(`tollgate ${VERSION}: gateway ${gateway.url}, admin ${gateway.adminUrl ?? '(disabled)'}, config ${values.config ?? ''}, pid ${process.pid}`);

  await stopped;
  return 0;
}

/**
 * Under `npm start` the gateway is npm's child (package.json's `exec bash scripts/start.sh`, which
 * execs node), and npm passes on only SIGINT and SIGTERM: a SIGHUP sent to npm kills npm. Rather
 * than run on orphaned (holding its ports, writing to a terminal nobody reads), the gateway then
 * drains and stops. Only under npm: a gateway started from a shell keeps running when the shell goes.
 */
function watchNpmParent(stop: () => void): void {
  if (process.env['npm_lifecycle_event'] === undefined) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    stop();
  }, 250);
  timer.unref();
}

function printDemoBanner(url: string, adminUrl: string | null, key: string, sims: ReadonlyArray<{ name: string; url: string }>, ledger: string | null): void {
  const lines = [
    `Tollgate ${VERSION}: demo mode (no --config given)`,
    '',
    `  OpenAI base URL        ${url}/v1`,
    `  Azure OpenAI endpoint  ${url}   (deployments: gpt-4o, gpt-4o-mini, text-embedding-3-small)`,
    `  Admin                  ${adminUrl ?? '(disabled)'}   (/health /ready /status /metrics /usage)`,
    `  Usage ledger           ${ledger ?? '(off)'}   (tollgate usage)`,
    `  Subscription key       ${key}`,
    `  Process id             ${process.pid}   (SIGINT/SIGTERM drain and stop)`,
    '',
    '  Backends (built-in simulators, pooled as openai-backend-pool: PTU first, PAYG 3:1):',
    ...sims.map((s) => `    ${s.name.padEnd(22)} ${s.url}/openai`),
    '',
    'Try:',
    `  curl ${url}/v1/chat/completions -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\`,
    `    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'`,
    '',
    'Watch failover: make the PTU answer 429 for a while, send requests, then look at the circuits:',
    `  curl -X PUT ${sims[0]?.url ?? ''}/_sim/fault -d '{"fail":"429","retryAfterSeconds":30}'`,
    `  tollgate status${adminUrl === null ? '' : ` --admin ${adminUrl}`}`,
    '',
    'Ctrl-C stops the gateway.',
  ];
  console.log(lines.join('\n'));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof HelpRequested) {
      console.log(USAGE);
      process.exitCode = 0;
      return;
    }
    if (err instanceof UsageError) {
      console.error(`tollgate: ${err.message}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    // The last resort still prints no secret (a message may quote a configured value).
    console.error(redactSecrets(`tollgate: ${err instanceof Error ? err.message : String(err)}`));
    process.exitCode = 1;
  },
);
