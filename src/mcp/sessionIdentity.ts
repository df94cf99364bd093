import { isWriterName } from '../delta/plan.js';
import { McpRefusal } from './McpRefusal.js';

/**
 * Who an MCP session may write as. It is decided when the session starts, by the server's flags
 * or the session's credential, never by what the agent sends later:
 * - `fixed`: one writer (`framelog mcp --writer`, or an HTTP session that showed a writer token);
 * - `any`: the writer each call names (the store token over HTTP, or `--any-writer`);
 * - `first`: the writer named by the session's first write, kept for the rest of the session;
 * - `none`: no writes (an HTTP session without a token).
 */
export type SessionIdentity =
  | { kind: 'fixed'; writer: string; because: string }
  | { kind: 'any' }
  | { kind: 'first'; bound?: string }
  | { kind: 'none'; because: string };

/**
 * The writer a write of this session is made as, given the writer the call names (if any); binds a
 * `first` session. Throws {@link McpRefusal} naming the session's writer when the call asks for
 * another, and when a write has no writer to use.
 */
export function writerFor(identity: SessionIdentity, named: string | undefined): string {
  if (named !== undefined && !isWriterName(named)) throw new McpRefusal('writer', `${JSON.stringify(named)} is not a writer name (1–128 chars of [A-Za-z0-9._-], not . or ..)`);
  switch (identity.kind) {
    case 'none':
      throw new McpRefusal('writer', `this session cannot write: ${identity.because}`);
    case 'fixed':
      if (named !== undefined && named !== identity.writer) throw new McpRefusal('writer', `${named} refused: this session writes as ${identity.writer} (${identity.because})`);
      return identity.writer;
    case 'any':
      if (named === undefined) throw new McpRefusal('writer', 'missing: name the writer this delta is from');
      return named;
    case 'first':
      if (identity.bound === undefined) {
        if (named === undefined) throw new McpRefusal('writer', 'missing: name your writer on the first write; the session keeps it');
        identity.bound = named;
      } else if (named !== undefined && named !== identity.bound) {
        throw new McpRefusal('writer', `${named} refused: this session writes as ${identity.bound}, the writer of its first write`);
      }
      return identity.bound;
  }
}

/** What the session writes as, in words (for the `whoami` tool and errors). */
export function describeIdentity(identity: SessionIdentity): string {
  switch (identity.kind) {
    case 'fixed':
      return `writes as ${identity.writer} (${identity.because})`;
    case 'any':
      return 'may write as any writer it names (store token)';
    case 'first':
      return identity.bound ? `writes as ${identity.bound} (the writer of its first write)` : 'writes as the writer its first write names';
    case 'none':
      return `read-only: ${identity.because}`;
  }
}
