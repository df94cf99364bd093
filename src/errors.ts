/**
 * The error framelog throws for anything a user can cause: bad input, a bad plan, a store in use.
 * `message` is one line naming what was wrong and where; `code` is stable for programs.
 */
export class FramelogError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'FramelogError';
    this.code = code;
  }
}
