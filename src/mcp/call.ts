/**
 * `tools/call`: the tool's arguments become the REST request of its operation, which is injected
 * into the gateway's own request handler in process (light-my-request: no socket, no second
 * listener), so it runs the whole data path a direct call runs: routing to the operation, the
 * subscription key, the global, product, API and operation policies (limits, content checks),
 * the backend, and one usage record. The answer becomes the tool result; an error status becomes
 * a result with `isError` (what the calling model reads), not a protocol error.
 * @module
 */
import type { IncomingHttpHeaders, RequestListener } from 'node:http';
import inject from 'light-my-request';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { FORWARDED_HEADERS } from '../server/forwarded.ts';
import { readCapped } from '../upstream/read-bounded.ts';
import { fillTemplate } from '../openapi/match.ts';
import type { ToolDefinition } from './tool-schema.ts';

/** What the MCP request carried that the tool's REST request carries on. */
export interface CallerContext {
  /** The client's headers after authentication (the key headers already removed). */
  readonly headers: IncomingHttpHeaders;
  /** The subscription key the MCP request presented, sent again as `api-key`. */
  readonly key: string | null;
  /** The client address the gateway settled on (`context.Request.IpAddress`). */
  readonly ip: string;
  readonly signal: AbortSignal;
}

/** MCP transport headers and what the injected request recomputes: not passed on. */
const NOT_FORWARDED = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'upgrade',
  'content-length',
  'content-type',
  'accept',
  'accept-encoding',
  'expect',
  'mcp-session-id',
  'mcp-protocol-version',
  'last-event-id',
]);

export interface ToolCallTarget {
  /** `/petstore`: the API's mount path ("" at the root). */
  readonly prefix: string;
  readonly maxResultBytes: number;
  readonly dispatch: RequestListener;
}

export async function callTool(tool: ToolDefinition, args: Record<string, unknown>, caller: CallerContext, target: ToolCallTarget): Promise<CallToolResult> {
  const op = tool.operation;
  const pathValues = new Map<string, string>();
  const query = new URLSearchParams();
  const headers: Record<string, string> = {};
  for (const name in caller.headers) {
    const value = caller.headers[name];
    if (typeof value === 'string' && !NOT_FORWARDED.has(name) && !FORWARDED_HEADERS.has(name)) headers[name] = value;
  }
  for (const { key, param } of tool.args) {
    const value = args[key];
    if (value === undefined || value === null) continue;
    if (param.in === 'path') {
      const segment = scalar(value);
      // Encoded, a value is one segment ("/" becomes %2F, which the gateway refuses), but "." and
      // ".." stay dot segments that would climb out of the operation, even out of the API.
      if (segment === '.' || segment === '..' || segment === '') return { isError: true, content: [{ type: 'text', text: `Path parameter "${param.name}" may not be empty, "." or "..".` }] };
      pathValues.set(param.name, segment);
    }
    else if (param.in === 'header') headers[param.name.toLowerCase()] = scalar(value);
    else if (Array.isArray(value) && param.explode) for (const v of value) query.append(param.name, scalar(v));
    else query.append(param.name, Array.isArray(value) ? value.map(scalar).join(',') : scalar(value));
  }
  if (caller.key !== null) headers['api-key'] = caller.key;
  let payload: string | undefined;
  if (op.body !== null && args['body'] !== undefined) {
    headers['content-type'] = op.body.contentType;
    payload = JSON.stringify(args['body']);
  }
  const qs = query.toString();
  const res = await inject(target.dispatch, {
    method: op.method,
    url: `${target.prefix}${fillTemplate(op.template, pathValues)}${qs === '' ? '' : `?${qs}`}`,
    headers,
    remoteAddress: caller.ip,
    signal: caller.signal,
    payloadAsStream: true,
    ...(payload !== undefined && { payload }),
  });
  const data = await readCapped(res.stream(), target.maxResultBytes);
  const text = data === undefined ? `(the answer was larger than ${target.maxResultBytes} bytes and was not passed on)` : data.toString('utf8');
  const status = res.statusCode;
  if (status < 200 || status >= 300) {
    const retry = res.headers['retry-after'];
    const hint = retry === undefined ? '' : ` (retry after ${String(retry)} s)`;
    return { isError: true, content: [{ type: 'text', text: `HTTP ${status}${hint}: ${text}` }] };
  }
  const result: CallToolResult = { content: [{ type: 'text', text }] };
  if (tool.outputSchema !== undefined && data !== undefined) {
    const structured = parseObject(text);
    if (structured === undefined) return { isError: true, content: [{ type: 'text', text: `The backend's answer is not the JSON object the operation's response schema describes: ${text.slice(0, 2000)}` }] };
    result.structuredContent = structured;
  }
  return result;
}

function scalar(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
