import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI the tests start (`npm test` builds first). */
export const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));

/** Runs the built CLI to its end (setting up stores, merging, reading what agents wrote). */
export function cli(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** What a tool call gave: its JSON value, or its error line. */
export interface ToolAnswer {
  ok: boolean;
  value?: unknown;
  error?: string;
}

/** Calls a tool; a tool error (or a protocol error for bad arguments) becomes `{ ok: false, error }`. */
export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolAnswer> {
  try {
    const r = await client.callTool({ name, arguments: args });
    const text = (r.content as Array<{ type: string; text?: string }>)[0]?.text ?? '';
    return r.isError ? { ok: false, error: text } : { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** Calls a tool that must succeed and returns its value (throws with the tool's error line otherwise). */
export async function value<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const r = await call(client, name, args);
  if (!r.ok) throw new Error(`${name}: ${r.error}`);
  return r.value as T;
}

/** An MCP client of `framelog mcp` over stdio (the server is the CLI, started by the SDK's transport). */
export async function stdioClient(args: string[], stderr: string[] = []): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', ...args], stderr: 'pipe' });
  transport.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  const client = new Client({ name: 'framelog-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/** An MCP client of a streamable HTTP endpoint, with a bearer token or none. */
export async function httpClient(url: string, token?: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(url), token === undefined ? {} : { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'framelog-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}
