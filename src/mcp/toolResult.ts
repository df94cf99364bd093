import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { FramelogError } from '../errors.js';
import { StreamError } from '../stream/StreamError.js';
import { McpRefusal } from './McpRefusal.js';

/** A tool's answer: its value as JSON text (what every MCP client shows the model). */
export function jsonResult(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }] };
}

/** A tool error: one line, `framelog: <field>: <reason>`, nothing written. */
export function errorResult(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: `framelog: ${message}` }] };
}

/**
 * Runs a tool's body: its value becomes {@link jsonResult}; a refusal or a framelog error (bad
 * input, a conflict id that does not exist…) becomes {@link errorResult}. Anything else is a fault
 * of the server and is thrown on, for the SDK to report as an internal error.
 */
export async function runTool(body: () => Promise<unknown> | unknown): Promise<CallToolResult> {
  try {
    return jsonResult(await body());
  } catch (e) {
    const refused = e instanceof McpRefusal || e instanceof FramelogError || (e instanceof StreamError && e.code !== 'IO');
    if (refused) return errorResult(e.message.split('\n')[0]);
    throw e;
  }
}

/** One page of a list: the items from `offset`, at most `limit`, and where the next page starts. */
export function page<T>(all: readonly T[], offset = 0, limit = 100): { total: number; offset: number; items: T[]; next?: number } {
  const items = all.slice(offset, offset + limit);
  return { total: all.length, offset, items, ...(offset + items.length < all.length ? { next: offset + items.length } : {}) };
}
