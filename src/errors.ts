/**
 * Every code a {@link FramelogError} can carry, with what it means for each audience: the CLI's
 * exit status, the HTTP status the server answers with, and whether a long-running merger must
 * stop (`fatal`: retrying cannot help, a person or another history is needed) rather than report
 * and try again.
 */
export const ERROR_CODES = {
  // A user's input or flags.
  'bad-argument': { exit: 1, http: 400, fatal: false, about: 'a flag or argument is not valid' },
  'bad-input': { exit: 1, http: 400, fatal: false, about: 'input cannot be read or is empty' },
  'bad-delta': { exit: 1, http: 400, fatal: false, about: 'a delta breaks the protocol (PROTOCOL §1)' },
  'bad-plan': { exit: 1, http: 400, fatal: false, about: 'framelog.json is not a valid plan' },
  'bad-writer': { exit: 1, http: 400, fatal: false, about: 'a writer name is not valid' },
  'bad-through': { exit: 1, http: 400, fatal: false, about: '--through names a frame already closed' },
  'bad-run': { exit: 1, http: 400, fatal: false, about: 'an engine run cannot go on as asked' },
  'bad-role': { exit: 1, http: 400, fatal: false, about: 'a transport was used for the other side (writer or merger)' },
  'bad-token-file': { exit: 1, http: 500, fatal: false, about: 'the store token file is unreadable or unsafe' },
  'too-large': { exit: 1, http: 413, fatal: false, about: 'over a size limit' },
  // The store's state.
  'no-store': { exit: 1, http: 503, fatal: false, about: 'no store at that folder' },
  'not-durable': { exit: 1, http: 503, fatal: false, about: 'the engine can lose an acknowledged put, and durability was required' },
  unsupported: { exit: 1, http: 501, fatal: true, about: 'this installation lacks a part the operation needs (a native addon)' },
  exists: { exit: 1, http: 409, fatal: false, about: 'something is already there' },
  locked: { exit: 1, http: 409, fatal: false, about: 'another merger holds the store' },
  closed: { exit: 1, http: 409, fatal: false, about: 'used after close' },
  'inbox-clash': { exit: 1, http: 409, fatal: false, about: 'an inbox name is taken by other bytes' },
  'quarantine-clash': { exit: 1, http: 409, fatal: false, about: 'a quarantine name is taken' },
  'other-run': { exit: 1, http: 409, fatal: false, about: 'the folder holds another engine run' },
  'corrupt-journal': { exit: 1, http: 500, fatal: true, about: 'a journal is damaged' },
  'corrupt-archive': { exit: 1, http: 500, fatal: true, about: 'the archive is damaged' },
  // Histories shared through a transport.
  'bad-bundle': { exit: 1, http: 500, fatal: true, about: 'a published merge is not a valid bundle' },
  diverged: { exit: 1, http: 409, fatal: true, about: 'this store and the published history differ' },
  trimmed: { exit: 1, http: 409, fatal: true, about: 'the published merges needed were trimmed' },
  'plan-mismatch': { exit: 1, http: 409, fatal: true, about: 'the plan differs from the published one' },
  'lease-lost': { exit: 1, http: 409, fatal: true, about: 'another merger took the lease' },
  'replica-diverged': { exit: 1, http: 500, fatal: true, about: "a worker's state replica differs from the merger's at a checkpoint" },
  'not-permitted': { exit: 1, http: 403, fatal: true, about: 'the engine refused this client the operation' },
  // Engines and processes outside framelog.
  'git-failed': { exit: 1, http: 502, fatal: false, about: 'a git command failed' },
  'git-missing': { exit: 1, http: 500, fatal: false, about: 'no git binary on the PATH' },
  'git-conflict': { exit: 1, http: 409, fatal: false, about: 'a git rebase met a conflict' },
  'git-push-failed': { exit: 1, http: 502, fatal: false, about: 'a git push was refused' },
  'postgres-unavailable': { exit: 1, http: 503, fatal: false, about: 'PostgreSQL cannot be reached' },
  'postgres-error': { exit: 1, http: 502, fatal: false, about: 'PostgreSQL refused a statement' },
  'redis-unavailable': { exit: 1, http: 503, fatal: false, about: 'Redis cannot be reached' },
  'redis-reply': { exit: 1, http: 502, fatal: false, about: 'Redis gave an unexpected reply' },
  'nats-unreachable': { exit: 1, http: 503, fatal: false, about: 'NATS cannot be reached' },
  'nats-setup-failed': { exit: 1, http: 502, fatal: false, about: 'JetStream refused to set up the store' },
  'nats-pull-failed': { exit: 1, http: 502, fatal: false, about: 'a JetStream pull failed' },
  'nats-put-failed': { exit: 1, http: 502, fatal: false, about: 'a JetStream publish failed' },
  'nats-ack-failed': { exit: 1, http: 502, fatal: false, about: 'a JetStream acknowledgement failed' },
  'kafka-unavailable': { exit: 1, http: 503, fatal: false, about: 'Kafka cannot be reached, or refused a request' },
  'nats-cluster': { exit: 1, http: 503, fatal: false, about: 'the NATS cluster lacks a quorum' },
  'address-in-use': { exit: 1, http: 500, fatal: false, about: 'the port is taken' },
  'worker-failed': { exit: 1, http: 500, fatal: false, about: 'an engine worker process failed' },
  'demo-failed': { exit: 1, http: 500, fatal: false, about: 'a demo process failed' },
} as const satisfies Record<string, { exit: number; http: number; fatal: boolean; about: string }>;

/** A code of {@link ERROR_CODES}: stable for programs (the CLI's `--json` errors, the HTTP API's `error`). */
export type FramelogErrorCode = keyof typeof ERROR_CODES;

/**
 * The error framelog throws for anything a user can cause: bad input, a bad plan, a store in use,
 * an engine that is down. `message` is one line naming what was wrong and where; `code` is one of
 * {@link ERROR_CODES}, which gives its exit status, HTTP status and whether it is fatal.
 */
export class FramelogError extends Error {
  readonly code: FramelogErrorCode;
  constructor(message: string, code: FramelogErrorCode) {
    super(message);
    this.name = 'FramelogError';
    this.code = code;
  }

  /** The CLI's exit status for this error. */
  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  /** The HTTP status the server answers with. */
  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  /** True when a long-running merger must stop rather than retry. */
  get fatal(): boolean {
    return ERROR_CODES[this.code].fatal;
  }
}

/** True for a {@link FramelogError} whose code is fatal to a long-running merger. */
export const isFatal = (e: unknown): boolean => e instanceof FramelogError && e.fatal;
