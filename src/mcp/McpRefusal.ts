/**
 * A tool call refused for what it asked: the MCP server answers it as a tool error
 * (`isError: true`) whose one line names the argument (`field`) and the reason, so the agent can
 * correct the call. Nothing was written.
 */
export class McpRefusal extends Error {
  constructor(
    /** The argument at fault (`writer`, `counters.n`, `frame`…), or '' for the call as a whole. */
    readonly field: string,
    readonly reason: string,
  ) {
    super(field ? `${field}: ${reason}` : reason);
    this.name = 'McpRefusal';
  }
}
