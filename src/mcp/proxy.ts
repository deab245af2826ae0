/**
 * Pass-through MCP servers (`apis.<id>.type: mcp`): the gateway forwards Streamable HTTP to a
 * backend that is itself an MCP server, and each POST is one call through the API's policies.
 *
 * What this module adds to the ordinary forwarding path is the view policies need of a call: the
 * JSON-RPC method and, for `tools/call`, the tool, as `context.Variables["mcp-method"]` and
 * `["mcp-tool"]` (so a limit can count tool calls only, or one tool). The body is otherwise passed
 * on byte for byte; answers (JSON or SSE) stream back unbuffered through forward-request.
 * @module
 */
import { GatewayError } from '../core/errors.ts';
import type { OperationInfo } from '../core/context.ts';

/** The one operation of a pass-through MCP API (usage records, `context.Operation`). */
export const MCP_PROXY_OPERATION: OperationInfo = { id: 'mcp', name: 'MCP server', method: 'POST', urlTemplate: '/' };

/** Streamable HTTP's methods: messages (POST), the server's stream (GET), session end (DELETE). */
export const MCP_PROXY_METHODS = new Set(['POST', 'GET', 'DELETE']);

export interface McpCall {
  /** The JSON-RPC method; "" for a client's answer to a server request (it has none). */
  readonly method: string;
  /** `params.name` of a `tools/call`; "" otherwise. */
  readonly tool: string;
}

/**
 * Reads the one JSON-RPC message of a POST. A batch is refused: MCP 2025-06-18 dropped batching,
 * and a batch would make one policy decision for many calls (ten tool calls against one count).
 */
export function classifyMcpPost(body: Buffer | null): McpCall {
  let message: unknown;
  try {
    message = JSON.parse(body === null ? '' : body.toString('utf8'));
  } catch {
    throw new GatewayError('GW_ERR_INVALID_REQUEST', 'The MCP request body is not valid JSON: send one JSON-RPC message per POST.');
  }
  if (Array.isArray(message)) {
    throw new GatewayError('GW_ERR_INVALID_REQUEST', 'JSON-RPC batches are not accepted on a pass-through MCP API: send one message per POST (MCP 2025-06-18 removed batching; policies apply per call).');
  }
  if (typeof message !== 'object' || message === null || (message as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
    throw new GatewayError('GW_ERR_INVALID_REQUEST', 'The MCP request body is not a JSON-RPC 2.0 message (an object with "jsonrpc": "2.0").');
  }
  const m = message as { method?: unknown; params?: unknown; result?: unknown; error?: unknown };
  if (m.method === undefined) {
    if (m.result === undefined && m.error === undefined) throw new GatewayError('GW_ERR_INVALID_REQUEST', 'The JSON-RPC message has neither a method nor a result or error.');
    return { method: '', tool: '' };
  }
  if (typeof m.method !== 'string' || m.method === '') throw new GatewayError('GW_ERR_INVALID_REQUEST', 'The JSON-RPC method must be a non-empty string.');
  let tool = '';
  if (m.method === 'tools/call') {
    const name = typeof m.params === 'object' && m.params !== null ? (m.params as { name?: unknown }).name : undefined;
    if (typeof name !== 'string' || name === '') throw new GatewayError('GW_ERR_INVALID_REQUEST', 'tools/call needs params.name (the tool to call).');
    tool = name;
  }
  return { method: m.method, tool };
}
