/**
 * What the credential manager and the typed context cost (docs/identity.md, docs/policies.md):
 * - per request, `get-authorization-context` with a cached token plus the MCP documents' `set-header`
 *   that reads `((Authorization)context.Variables...)?.AccessToken`, run in-process (no sockets);
 * - at load, the `context` member check over every expression of the shared APIM corpus (compile
 *   time with the check against the same compile without it is not separable, so the check alone
 *   is timed on the parsed trees).
 *
 *   node bench/credential-manager.ts [--iterations 200000]
 *
 * The numbers are for the report, never asserted.
 */
import { parseArgs } from 'node:util';
import { getAuthorizationContextDefinition } from '../src/policies/get-authorization-context/index.ts';
import { setHeaderDefinition } from '../src/policies/set-header/index.ts';
import { ElementReader } from '../src/policy-docs/reader.ts';
import { parsePolicyXml } from '../src/policy-docs/xml-reader.ts';
import type { PolicyEnv, CompileScope } from '../src/policy-docs/compile.ts';
import type { PolicyServices } from '../src/policy-docs/services.ts';
import { IdentityService } from '../src/identity/service.ts';
import { createLogger } from '../src/observability/logger.ts';
import { makeContext } from '../src/expressions/test-support.ts';
import { checkContextMembers } from '../src/expressions/context-types.ts';
import { Lexer } from '../src/expressions/lexer.ts';
import { Parser } from '../src/expressions/parser.ts';
import { parseStatement } from '../src/expressions/parse-statements.ts';
import type { Expr, Stmt } from '../src/expressions/ast.ts';
import type { PolicyElement } from '../src/policy-docs/element.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '200000' } } });
const N = Number(values.iterations);

const identity = new IdentityService({ env: {} });
const services = {
  identity,
  logger: createLogger('silent'),
  authorizations: new Map([['github', new Map([['mcp', { token: 'gho-static-token' }]])]]),
} as unknown as PolicyServices;
const env: PolicyEnv = { backendIds: new Set(), loggerIds: new Set(), fragments: new Map(), services, notice: () => undefined };
const scope: CompileScope = { section: 'inbound', target: 'request', fragmentStack: [], inRetry: false };
const el = (xml: string): ElementReader => new ElementReader(parsePolicyXml(`<fragment>${xml}</fragment>`, 'bench.xml').children[0] as never);
const none = (): never[] => [];

const get = getAuthorizationContextDefinition.compile(
  el('<get-authorization-context provider-id="@(context.Request.Headers.GetValueOrDefault(&quot;providerId&quot;, &quot;github&quot;))" authorization-id="mcp" context-variable-name="auth-context" />'),
  scope, env, none,
);
const header = setHeaderDefinition.compile(
  el('<set-header name="Authorization" exists-action="override"><value>@("Bearer " + ((Authorization)context.Variables.GetValueOrDefault("auth-context"))?.AccessToken)</value></set-header>'),
  scope, env, none,
);

async function perRequest(run: (i: number) => Promise<void> | void): Promise<number> {
  for (let i = 0; i < N / 10; i++) await run(i);
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await run(i);
  return Number(process.hrtime.bigint() - t) / 1000 / N;
}

// A client-credentials authorization against a loopback token endpoint: after the first fetch every
// request is a cache hit (the steady state).
const server = createServer((_req, res) => res.end(JSON.stringify({ access_token: 'cc-token', token_type: 'Bearer', expires_in: 3600 })));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
const cached = getAuthorizationContextDefinition.compile(
  el('<get-authorization-context provider-id="github" authorization-id="cc" context-variable-name="auth-context" />'),
  scope,
  { ...env, services: { ...services, authorizations: new Map([['github', new Map([['cc', { clientCredentials: { tokenUrl, clientId: 'c', clientSecret: 's' } }]])]]) } },
  none,
);

const ctx = makeContext();
const staticUs = await perRequest(() => get.run(ctx));
const cachedUs = await perRequest(() => cached.run(ctx));
const headerUs = await perRequest(() => header.run(ctx));
console.log(`get-authorization-context, static token, provider id from a header expression: ${staticUs.toFixed(2)} µs/request`);
console.log(`get-authorization-context, client credentials, token cached: ${cachedUs.toFixed(2)} µs/request (${identity.tokens.fetches} fetch, ${identity.tokens.hits} hits)`);
console.log(`set-header reading ((Authorization)...)?.AccessToken: ${headerUs.toFixed(2)} µs/request`);

// Load time: the context member check alone, over every expression of the shared corpus.
const corpus = join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'apim-policies');
if (existsSync(corpus)) {
  const trees: Array<Expr | Stmt> = [];
  let exprs = 0;
  const walk = (e: PolicyElement): void => {
    for (const v of [...e.attrs.values(), ...(e.text === null ? [] : [e.text])]) {
      const raw = v.value.trim();
      if (!raw.startsWith('@(') && !raw.startsWith('@{')) continue;
      exprs++;
      try {
        const p = new Parser(new Lexer(raw, 2).all());
        if (raw[1] === '(') trees.push(p.parseExpr());
        else {
          const body: Stmt[] = [];
          while (!p.isOp('}') && p.peek().k !== 'eof') body.push(parseStatement(p));
          trees.push({ k: 'block', off: 0, body, end: raw.length });
        }
      } catch {
        // Not parseable by this version of the language: not part of the measurement.
      }
    }
    e.children.forEach(walk);
  };
  for (const f of readdirSync(corpus)) {
    if (!f.endsWith('.xml')) continue;
    try {
      walk(parsePolicyXml(readFileSync(join(corpus, f), 'utf8').replace(/\{\{[^}]+\}\}/g, 'x'), f));
    } catch {
      // Placeholders the labs fill in before upload: skipped.
    }
  }
  const rounds = 50;
  const t = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) for (const tree of trees) checkContextMembers(tree);
  const us = Number(process.hrtime.bigint() - t) / 1000 / rounds;
  console.log(`context member check: ${trees.length} of ${exprs} corpus expressions in ${(us / 1000).toFixed(2)} ms (${(us / trees.length).toFixed(2)} µs each, once at load)`);
}
server.close();
await identity.close();
