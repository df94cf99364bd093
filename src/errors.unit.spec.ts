import { describe, expect, it } from 'vitest';
import { ERROR_CODES, FramelogError, isFatal, type FramelogErrorCode } from './errors.js';
import { toErrorResponse } from './server/ApiError.js';

describe('error codes', () => {
  it('carry their exit status, HTTP status and fatality from one table', () => {
    for (const code of Object.keys(ERROR_CODES) as FramelogErrorCode[]) {
      const e = new FramelogError(`x: ${code}`, code);
      expect([e.exitCode, e.httpStatus, e.fatal]).toEqual([ERROR_CODES[code].exit, ERROR_CODES[code].http, ERROR_CODES[code].fatal]);
      expect(e.exitCode).toBeGreaterThan(0);
      expect(toErrorResponse(e)).toMatchObject({ status: ERROR_CODES[code].http, body: { error: code } });
    }
  });

  it('are fatal to a merger exactly when no retry can cure them: another history, a lost lease, damage, a missing native part', () => {
    const fatal = (Object.keys(ERROR_CODES) as FramelogErrorCode[]).filter((c) => isFatal(new FramelogError('', c))).sort();
    expect(fatal).toEqual(['bad-bundle', 'corrupt-archive', 'corrupt-journal', 'diverged', 'lease-lost', 'not-permitted', 'plan-mismatch', 'replica-diverged', 'trimmed', 'unsupported']);
    expect(isFatal(new Error('ECONNREFUSED'))).toBe(false); // an engine that is down is retried
    expect(isFatal(new FramelogError('redis down', 'redis-unavailable'))).toBe(false);
  });
});
