import { matchesWriterPattern, type Plan } from '../../delta/plan.js';
import type { InboxScan } from '../inbox/inbox.js';

/** What the watch-mode merger should do now. */
export interface ReadyDecision {
  /** Frames to close now, ascending. */
  frames: number[];
  /** True when a merge is due even with no frame ready (late deltas or bad files waited long enough). */
  due: boolean;
  /** Milliseconds until the next deadline. */
  waitMs: number;
}

/**
 * The watch-mode rule of PROTOCOL §3, as `merge --watch` applies it: a frame closes when every
 * expected writer has a delta for it or `frameTimeoutMs` has passed since its first delta arrived;
 * frames close in order; late deltas alone close a frame after four timeouts; bad files alone are
 * quarantined after one. A writer with a delta for a later frame has moved past this one (a
 * writer's frames only go up): it counts as reported, so a backlog found in the inbox (a merger
 * restarted behind its writers) closes at once instead of one timeout per frame. With a `quorum`
 * (writers too many to list), a frame also needs `count` distinct writers matching `match` to have
 * reported (or moved past it) before the timeout.
 */
export function createFrameReadiness(writers: readonly string[], timeoutMs: number, quorum?: Plan['quorum']) {
  const firstSeen = new Map<number, number>();
  let lateSince: number | undefined;
  let badSince: number | undefined;
  return {
    decide(scan: InboxScan, lastFrame: number | null, t: number, pollMs: number): ReadyDecision {
      const last = lastFrame ?? -1;
      const reporters = new Map<number, Set<string>>();
      let late = false;
      for (const { delta } of scan.valid) {
        if (delta.frame <= last) {
          late = true;
          continue;
        }
        if (!firstSeen.has(delta.frame)) firstSeen.set(delta.frame, t);
        let s = reporters.get(delta.frame);
        if (!s) reporters.set(delta.frame, (s = new Set()));
        s.add(delta.writer);
      }
      lateSince = late ? (lateSince ?? t) : undefined;
      badSince = scan.bad.length > 0 ? (badSince ?? t) : undefined;
      const frames: number[] = [];
      const pending = [...reporters.keys()].sort((a, b) => a - b);
      // The newest frame each writer has a delta for: a writer is past every frame below it.
      const newest = new Map<string, number>();
      for (const f of pending) for (const w of reporters.get(f)!) newest.set(w, f);
      // Writers that count toward the quorum, with the newest frame each has reported.
      const counted = quorum ? [...newest].filter(([w]) => quorum.match === undefined || matchesWriterPattern(w, quorum.match)) : [];
      for (const f of pending) {
        const listed = writers.every((w) => reporters.get(f)!.has(w) || (newest.get(w) ?? -1) > f);
        // Reported for f, or moved past it (a writer's frames only go up).
        const enough = !quorum || counted.reduce((n, [w, newestF]) => n + (newestF > f || reporters.get(f)!.has(w) ? 1 : 0), 0) >= quorum.count;
        const all = (writers.length > 0 || quorum !== undefined) && listed && enough;
        if (all || t - firstSeen.get(f)! >= timeoutMs) frames.push(f);
        else break;
      }
      const lateDue = lateSince !== undefined && reporters.size === 0 && t - lateSince >= 4 * timeoutMs;
      const badDue = badSince !== undefined && t - badSince >= timeoutMs;
      const waitMs = Math.max(1, Math.min(
        ...[...firstSeen.values()].map((s) => s + timeoutMs - t),
        lateSince !== undefined ? lateSince + 4 * timeoutMs - t : Infinity,
        badSince !== undefined ? badSince + timeoutMs - t : Infinity,
        pollMs,
      ));
      return { frames, due: frames.length > 0 || lateDue || badDue, waitMs };
    },
    /** Forgets frames at or below the last closed one. */
    merged(lastFrame: number | null, mergedAny: boolean): void {
      for (const f of [...firstSeen.keys()]) if (f <= (lastFrame ?? -1)) firstSeen.delete(f);
      if (mergedAny) lateSince = undefined;
      badSince = undefined;
    },
  };
}
