/**
 * An API's MCP server (`apis.<id>.mcp`): MCP over Streamable HTTP at `/<api path>/<mcp path>`,
 * with the official SDK's server and its web-standard transport.
 *
 * Stateless (no `Mcp-Session-Id`), with JSON answers rather than SSE streams: every tool is one
 * REST call with nothing to push to the client, so a session would only add a table to bound and
 * tie a client to one replica. Each POST gets its own SDK server and transport (the SDK's
 * stateless pattern); the tool list and its schemas are built once, when the config loads.
 * @module
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { JsonSchemaValidator } from '@modelcontextprotocol/sdk/validation';
import type { ApiSpec } from '../openapi/spec.ts';
import { VERSION } from '../version.ts';
import { buildTool, type ToolDefinition } from './tool-schema.ts';
import { callTool, type CallerContext } from './call.ts';

export interface McpSettings {
  readonly path: string;
  readonly tools?: readonly string[] | undefined;
  readonly maxResultBytes: number;
}

type Validator = JsonSchemaValidator<unknown>;

export class McpEndpoint {
  /** `/petstore/mcp`. */
  readonly path: string;
  readonly #apiId: string;
  readonly #prefix: string;
  readonly #maxResultBytes: number;
  readonly #tools = new Map<string, ToolDefinition>();
  readonly #list: Tool[];
  // Compiled on a tool's first call, not at load: most tools of a big spec are never called.
  readonly #validators = new Map<string, { input: Validator; output: Validator | undefined }>();
  readonly #ajv = new AjvJsonSchemaValidator(quietAjv());

  constructor(apiId: string, prefix: string, spec: ApiSpec, settings: McpSettings) {
    this.#apiId = apiId;
    this.#prefix = prefix;
    this.path = `${prefix}/${settings.path}`;
    this.#maxResultBytes = settings.maxResultBytes;
    const wanted = settings.tools === undefined ? null : new Set(settings.tools);
    for (const op of spec.operations) {
      if (wanted !== null && !wanted.has(op.id)) continue;
      const tool = buildTool(spec, op);
      this.#tools.set(tool.name, tool);
    }
    this.#list = [...this.#tools.values()].map((t) => ({
      name: t.name,
      title: t.operation.summary ?? t.operation.id,
      description: t.description,
      inputSchema: t.inputSchema,
      ...(t.outputSchema !== undefined && { outputSchema: t.outputSchema }),
    }));
  }

  get toolCount(): number {
    return this.#tools.size;
  }

  /**
   * Answers one MCP POST whose body the gateway has read (bounded) and whose key it has checked.
   * `dispatch` is the gateway's own request listener: tool calls go through it.
   */
  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer | null, caller: Omit<CallerContext, 'signal'>, dispatch: RequestListener): Promise<void> {
    let message: unknown;
    try {
      message = JSON.parse(body === null ? '' : body.toString('utf8'));
    } catch (err) {
      writeJson(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: `Parse error: ${(err as Error).message}` } });
      return;
    }
    const aborted = new AbortController();
    res.on('close', () => aborted.abort());
    // The shared validator: by default each SDK server builds its own Ajv instance, which cost
    // more than the rest of the MCP layer together (bench/mcp-tools.ts, CPU profile).
    const server = new Server({ name: `tollgate-${this.#apiId}`, version: VERSION }, { capabilities: { tools: { listChanged: false } }, jsonSchemaValidator: this.#ajv });
    server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: this.#list }));
    server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
      this.#call(request.params.name, request.params.arguments ?? {}, { ...caller, signal: AbortSignal.any([aborted.signal, extra.signal]) }, dispatch),
    );
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    try {
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
      const request = new Request(`http://gateway${this.path}`, { method: 'POST', headers });
      const response = await transport.handleRequest(request, { parsedBody: message });
      const out: Record<string, string> = {};
      response.headers.forEach((value, name) => (out[name] = value));
      const data = Buffer.from(await response.arrayBuffer());
      res.writeHead(response.status, { ...out, 'content-length': String(data.length) });
      res.end(data);
    } finally {
      await server.close();
    }
  }

  async #call(name: string, args: Record<string, unknown>, caller: CallerContext, dispatch: RequestListener): Promise<CallToolResult> {
    const tool = this.#tools.get(name);
    // As the SDK's own McpServer does: an unknown tool is a tool error the model can read.
    if (tool === undefined) return toolError(`Tool ${name} not found`);
    const validators = this.#validatorsOf(tool);
    const checked = validators.input(args);
    if (!checked.valid) return toolError(`Input validation error: Invalid arguments for tool ${name}: ${checked.errorMessage ?? 'invalid'}`);
    const result = await callTool(tool, args, caller, { prefix: this.#prefix, maxResultBytes: this.#maxResultBytes, dispatch });
    if (validators.output !== undefined && result.isError !== true && result.structuredContent !== undefined) {
      // A client rejects structured content that breaks the declared schema: say so as a tool error instead.
      const out = validators.output(result.structuredContent);
      if (!out.valid) return toolError(`The backend's answer does not match the operation's response schema (${out.errorMessage ?? 'invalid'}): ${textOf(result).slice(0, 2000)}`);
    }
    return result;
  }

  #validatorsOf(tool: ToolDefinition): { input: Validator; output: Validator | undefined } {
    let v = this.#validators.get(tool.name);
    if (v === undefined) {
      v = { input: this.#ajv.getValidator(tool.inputSchema), output: tool.outputSchema === undefined ? undefined : this.#ajv.getValidator(tool.outputSchema) };
      this.#validators.set(tool.name, v);
    }
    return v;
  }
}

/** The SDK's settings, without Ajv's console warnings (specs use formats like `unixtime`). */
function quietAjv(): Ajv {
  const ajv = new Ajv({ strict: false, validateFormats: true, validateSchema: false, allErrors: true, logger: false });
  addFormats.default(ajv);
  return ajv;
}

const toolError = (text: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text }] });

function textOf(result: CallToolResult): string {
  const first = result.content[0];
  return first?.type === 'text' ? first.text : '';
}

function writeJson(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(data.length) });
  res.end(data);
}
