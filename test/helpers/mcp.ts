/**
 * MCP test helpers: the official SDK client over Streamable HTTP, and a fake REST backend that
 * records every request (method, URL, headers, body) and answers through a test's handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startFakeUpstream, type FakeUpstream } from './raw-http.ts';

export const OPENAPI_FIXTURES = resolve(import.meta.dirname, '../fixtures/openapi');
export const PETSTORE = resolve(OPENAPI_FIXTURES, 'petstore3.yaml');
export const CONDUIT = resolve(OPENAPI_FIXTURES, 'realworld-conduit.yaml');
export const AZURE_OPENAI = resolve(OPENAPI_FIXTURES, 'azure-openai-inference-2024-02-01.json');

/** Connects the SDK client (initialize included) with the given extra headers. */
export async function mcpClient(url: string, headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'tollgate-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface RestBackend extends FakeUpstream {
  readonly received: Received[];
}

/** A REST backend on loopback; `answer` gets each request with its body read. */
export async function startRestBackend(answer: (r: Received, res: ServerResponse) => void): Promise<RestBackend> {
  const received: Received[] = [];
  const upstream = await startFakeUpstream((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      answer(r, res);
    });
  });
  return Object.assign(upstream, { received });
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}
