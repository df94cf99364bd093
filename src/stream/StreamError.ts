/** What went wrong, as a stable word a program can test. */
export type StreamErrorCode =
  | 'BAD_NAME'
  | 'BAD_RECORD'
  | 'RECORD_TOO_LARGE'
  | 'BAD_TIME'
  | 'BAD_CURSOR'
  | 'BAD_FILTER'
  | 'NOT_FOUND'
  | 'CLOSED'
  | 'IO'
  | 'SCHEMA'
  | 'SCHEMA_VERSION';

/**
 * The one error type of `src/stream`: a one-line message naming the input, the rule and the fix,
 * plus a `code` for programs. The CLI prints `framelog: <message>` and exits 1.
 */
export class StreamError extends Error {
  override readonly name = 'StreamError';
  readonly code: StreamErrorCode;

  constructor(code: StreamErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
