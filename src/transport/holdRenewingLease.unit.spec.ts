import { describe, expect, it } from 'vitest';
import { holdRenewingLease, type LeaseRenewal } from './holdRenewingLease.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An engine whose renewals answer as `answer` says, counting what it was asked. */
function engine(answer: (n: number) => Promise<string | undefined>, extra: Partial<LeaseRenewal> = {}) {
  const calls = { renew: 0, release: 0, lost: 0 };
  const e: LeaseRenewal = {
    renew: () => answer(++calls.renew),
    release: async () => void calls.release++,
    onLost: () => void calls.lost++,
    ...extra,
  };
  return { e, calls };
}

const timing = { token: 7, holder: 'h', name: 'test lease (token 7)', renewEveryMs: 20, confirmWithinMs: 200, acquiredAt: Date.now() };

describe('holdRenewingLease', () => {
  it('renews while confirmed, then release stops renewing and releases once', async () => {
    const { e, calls } = engine(async () => undefined);
    const lease = holdRenewingLease({ ...timing, acquiredAt: Date.now() }, e);
    await sleep(300); // past confirmWithinMs: the confirmations keep it
    expect(lease.lost.aborted).toBe(false);
    expect(calls.renew).toBeGreaterThanOrEqual(5);
    await lease.release();
    await lease.release();
    const after = calls.renew;
    await sleep(80);
    expect(calls.renew).toBe(after);
    expect(calls.release).toBe(1);
    expect(calls.lost).toBe(0);
    expect([lease.token, lease.holder]).toEqual([7, 'h']);
  });

  it('a renewal saying the lease is gone aborts lost with the reason, once; release is then a no-op', async () => {
    const { e, calls } = engine(async (n) => (n >= 3 ? 'now held by B' : undefined));
    const lease = holdRenewingLease({ ...timing, acquiredAt: Date.now() }, e);
    await sleep(150);
    expect(lease.lost.aborted).toBe(true);
    expect(lease.lost.reason).toMatchObject({ name: 'FramelogError', code: 'lease-lost', message: 'test lease (token 7) lost: now held by B' });
    expect(calls.renew).toBe(3);
    expect(calls.lost).toBe(1);
    await lease.release();
    expect(calls.release).toBe(0);
  });

  it('a failure that is not retryable loses the lease at once', async () => {
    const { e, calls } = engine(async () => {
      throw new Error('connection reset');
    });
    const lease = holdRenewingLease({ ...timing, acquiredAt: Date.now() }, e);
    await sleep(60);
    expect((lease.lost.reason as Error).message).toBe('test lease (token 7) lost: renewal failed (connection reset)');
    expect(calls.renew).toBe(1);
  });

  it('retryable failures are tried again until no renewal was confirmed within the deadline', async () => {
    const { e, calls } = engine(
      async () => {
        throw new Error('timeout');
      },
      { retryable: () => true },
    );
    const t0 = Date.now();
    const lease = holdRenewingLease({ ...timing, retryEveryMs: 10, acquiredAt: t0 }, e);
    while (!lease.lost.aborted) await sleep(5);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(195);
    expect((lease.lost.reason as Error).message).toBe('test lease (token 7) lost: no renewal confirmed within 200 ms');
    expect(calls.renew).toBeGreaterThan(5);
  });

  it('a renewal that never answers is caught by the deadline, and its late answer changes nothing', async () => {
    let answer: (v: string | undefined) => void = () => undefined;
    const { e, calls } = engine(() => new Promise((r) => (answer = r)));
    const lease = holdRenewingLease({ ...timing, acquiredAt: Date.now() }, e);
    await sleep(260);
    expect((lease.lost.reason as Error).message).toMatch(/no renewal confirmed within 200 ms/);
    expect(calls.renew).toBe(1); // never two renewals at once
    answer(undefined);
    await sleep(50);
    expect(calls.renew).toBe(1);
    expect(calls.lost).toBe(1);
  });

  it('lose() from outside ends it like a failed renewal', async () => {
    const { e, calls } = engine(async () => undefined);
    const lease = holdRenewingLease({ ...timing, acquiredAt: Date.now() }, e);
    lease.lose('the transport was closed');
    lease.lose('twice');
    expect((lease.lost.reason as Error).message).toBe('test lease (token 7) lost: the transport was closed');
    expect(calls.lost).toBe(1);
    await sleep(60);
    expect(calls.renew).toBe(0);
  });
});
