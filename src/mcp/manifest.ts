/**
 * The client configuration for an API's MCP server (the seed's "generate MCP manifest pointing to
 * the APIM endpoint"), in the file formats of common MCP clients. The subscription key is never
 * written: every format reads it from where the client keeps secrets (VS Code prompts for it and
 * stores it; the others read the `TOLLGATE_KEY` environment variable).
 * @module
 */

export const MANIFEST_CLIENTS = ['vscode', 'claude-code', 'claude-desktop', 'cursor'] as const;
export type ManifestClient = (typeof MANIFEST_CLIENTS)[number];

export interface ManifestInput {
  /** Server name in the client's list, e.g. the API id. */
  readonly name: string;
  /** Absolute URL of the MCP endpoint. */
  readonly url: string;
  /** Tool names, listed for the reader. */
  readonly tools: readonly string[];
}

export interface ClientManifest {
  /** Where the client reads it from. */
  readonly file: string;
  readonly config: unknown;
  /** Equivalent command line, where the client has one. */
  readonly command?: string;
}

const KEY_HEADER = 'api-key';
const KEY_ENV = 'TOLLGATE_KEY';
/** Pattern 3 limits tool calls per agent by this header; each agent should send its own name. */
const AGENT_HEADER = 'X-Agent-Id';

export function buildManifest(input: ManifestInput): { name: string; url: string; transport: 'streamable-http'; headers: Record<string, string>; tools: readonly string[]; clients: Record<ManifestClient, ClientManifest> } {
  const { name, url } = input;
  const agent = `${name}-agent`;
  return {
    name,
    url,
    transport: 'streamable-http',
    headers: { [KEY_HEADER]: `<subscription key, e.g. $${KEY_ENV}>`, [AGENT_HEADER]: '<agent name (per-agent limits)>' },
    tools: input.tools,
    clients: {
      vscode: {
        file: '.vscode/mcp.json',
        config: {
          inputs: [{ type: 'promptString', id: `${name}-key`, description: `Tollgate subscription key for ${name}`, password: true }],
          servers: { [name]: { type: 'http', url, headers: { [KEY_HEADER]: `\${input:${name}-key}`, [AGENT_HEADER]: agent } } },
        },
      },
      'claude-code': {
        file: '.mcp.json',
        config: { mcpServers: { [name]: { type: 'http', url, headers: { [KEY_HEADER]: `\${${KEY_ENV}}`, [AGENT_HEADER]: agent } } } },
        command: `claude mcp add --transport http ${name} ${url} --header "${KEY_HEADER}: $${KEY_ENV}" --header "${AGENT_HEADER}: ${agent}"`,
      },
      // Claude Desktop's config file starts local (stdio) servers: the mcp-remote bridge connects
      // one to the gateway's Streamable HTTP endpoint with the headers.
      'claude-desktop': {
        file: 'claude_desktop_config.json',
        config: {
          mcpServers: {
            [name]: {
              command: 'npx',
              args: ['-y', 'mcp-remote', url, '--transport', 'http-only', '--header', `${KEY_HEADER}:\${${KEY_ENV}}`, '--header', `${AGENT_HEADER}:${agent}`],
              env: { [KEY_ENV]: '<subscription key>' },
            },
          },
        },
      },
      cursor: {
        file: '.cursor/mcp.json',
        config: { mcpServers: { [name]: { url, headers: { [KEY_HEADER]: `\${env:${KEY_ENV}}`, [AGENT_HEADER]: agent } } } },
      },
    },
  };
}
