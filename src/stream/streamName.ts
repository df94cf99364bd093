import { StreamError } from './StreamError.js';

const NAME = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Refuses a stream name that is not 1–128 chars of `[A-Za-z0-9._-]`, or is `.` / `..`,
 * so a name can never reach outside `streams/`.
 */
export function assertStreamName(name: string): void {
  if (!NAME.test(name) || name === '.' || name === '..') {
    throw new StreamError(
      'BAD_NAME',
      `stream name ${JSON.stringify(name.length > 140 ? name.slice(0, 140) + '…' : name)} is not allowed: ` +
        'use 1–128 characters of A-Z a-z 0-9 . _ - (not "." or "..")',
    );
  }
}

/** True when `name` is a valid stream name (see {@link assertStreamName}). */
export function isStreamName(name: string): boolean {
  return NAME.test(name) && name !== '.' && name !== '..';
}
