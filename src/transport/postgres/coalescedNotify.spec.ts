import { describe, expect, it, vi } from 'vitest';
import { coalescedNotify } from './coalescedNotify.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('coalescedNotify', () => {
  it('a put after a quiet spell notifies itself; one in a burst is owed and sent once the writer pauses', async () => {
    let sent = 0;
    const n = coalescedNotify({ everyMs: 1000, send: async () => void sent++ });
    expect(n.claim()).toBe(true); // first put: carries the notification
    n.settled();
    expect(n.claim()).toBe(false); // right behind it: owed
    n.settled();
    expect(n.claim()).toBe(false); // the writer goes on at once (same turn of the event loop)…
    await tick();
    expect(sent).toBe(0); // …so nothing is sent while a put is in flight
    n.settled();
    await tick();
    await tick();
    expect(sent).toBe(1); // the writer paused: the owed notification went out
    await n.flush();
    expect(sent).toBe(1); // nothing more owed
  });

  it('a long stream of puts is announced at least every everyMs; flush sends what is owed', async () => {
    // A fake clock: on a loaded machine a real 30 ms timer can fire late enough to move the window.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      let sent = 0;
      const n = coalescedNotify({ everyMs: 30, send: async () => void sent++ });
      expect(n.claim()).toBe(true);
      expect(n.claim()).toBe(false); // two puts in flight, none settles
      vi.advanceTimersByTime(29);
      expect(sent).toBe(0);
      vi.advanceTimersByTime(1);
      expect(sent).toBe(1); // the trailing one, while puts were still in flight
      vi.advanceTimersByTime(30);
      expect(n.claim()).toBe(true); // the window passed: this put carries its own
      expect(n.claim()).toBe(false);
      await n.flush();
      expect(sent).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('everyMs 0: every put notifies', () => {
    const n = coalescedNotify({ everyMs: 0, send: async () => undefined });
    expect([n.claim(), n.claim(), n.claim()]).toEqual([true, true, true]);
  });
});
