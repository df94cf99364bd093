import { openSync, readFileSync } from 'node:fs';

const missing = (e: unknown): boolean => (e as NodeJS.ErrnoException).code === 'ENOENT';

/** A file's text, or `undefined` when it does not exist; any other error is thrown. */
export function readTextIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (missing(e)) return undefined;
    throw e;
  }
}

/** A descriptor open for reading, or `undefined` when the file does not exist; any other error is thrown. */
export function openIfExists(path: string): number | undefined {
  try {
    return openSync(path, 'r');
  } catch (e) {
    if (missing(e)) return undefined;
    throw e;
  }
}
