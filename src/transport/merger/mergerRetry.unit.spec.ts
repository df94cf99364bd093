import { describe, expect, it } from 'vitest';
import { FramelogError } from '../../errors.js';
import { createMergerRetry } from './mergerRetry.js';

const failing = (errors: unknown[], value = 'done') => {
  let n = 0;
  return async (): Promise<string> => {
    if (n < errors.length) throw errors[n++];
    return value;
  };
};

describe('the merger retry policy', () => {
  it('watch mode: a transport failure is reported and tried again; a fatal one is thrown', async () => {
    const reported: unknown[] = [];
    const r = createMergerRetry({ watch: true, pollMs: 1, report: (e) => reported.push(e) });
    expect(await r.retrying(failing([new Error('ECONNREFUSED'), new Error('timeout')]))).toBe('done');
    expect(reported.map((e) => (e as Error).message)).toEqual(['ECONNREFUSED', 'timeout']);
    const lost = new FramelogError('lease gone', 'lease-lost');
    await expect(r.retrying(failing([lost]))).rejects.toBe(lost);
  });

  it('one-shot: the first failure is thrown', async () => {
    const r = createMergerRetry({ watch: false, pollMs: 1, report: () => expect.fail('nothing is reported') });
    await expect(r.retrying(failing([new Error('down')]))).rejects.toThrow('down');
  });

  it('a merger stopped while retrying gets undefined, not the error', async () => {
    const stop = new AbortController();
    const r = createMergerRetry({ watch: true, pollMs: 1, signal: stop.signal, report: () => stop.abort() });
    expect(await r.retrying(failing([new Error('down'), new Error('still down')]))).toBeUndefined();
  });

  it('tolerate: false and reported for a transport failure, thrown for a fatal one', async () => {
    const reported: unknown[] = [];
    const r = createMergerRetry({ watch: true, pollMs: 1, report: (e) => reported.push(e) });
    expect(await r.tolerate(async () => undefined)).toBe(true);
    expect(await r.tolerate(async () => Promise.reject(new Error('ack failed')))).toBe(false);
    expect(reported).toHaveLength(1);
    await expect(r.tolerate(async () => Promise.reject(new FramelogError('forked', 'diverged')))).rejects.toMatchObject({ code: 'diverged' });
  });
});
