import type { MergeRecord } from '../../merge/records.js';
import { mergeMessage } from './mergeMessage.js';
import type { CloneObservation, CloneRole, StartObservation, StoreRecoveredObservation } from './observeClone.js';
import { strayChanges } from './strayChanges.js';

/**
 * One remedy of git recovery, for {@link applyRecovery}. `notice`, when set, is the one line said
 * through the transport's logger before the remedy runs; remedies without one are silent (as they
 * always were: they undo what only a killed git leaves, and lose nothing).
 */
export type RecoveryAction =
  /** Remove these lock files. */
  | { kind: 'remove-stale-locks'; paths: string[]; notice?: string }
  /** `git rebase --abort`; when that fails (the rebase's state cut short), `git rebase --quit`. */
  | { kind: 'abort-rebase'; notice?: string }
  /** `git checkout --force <branch>`, then clear what git does not track in framelog's folders. */
  | { kind: 'reattach-branch'; branch: string; notice?: string }
  /** Remove `.git/index` and rebuild it from HEAD (`git reset --mixed`); the working tree stays. */
  | { kind: 'rebuild-index'; notice?: string }
  /** Remove these untracked inbox files (the remote holds them whole; the next pull brings them back). */
  | { kind: 'drop-interrupted-checkout'; paths: string[]; notice?: string }
  /** Create these store folders (empty: git does not track them). */
  | { kind: 'make-store-folders'; folders: string[]; notice?: string }
  /** Back to the last commit (`git checkout --force HEAD -- .`, clear framelog's folders) and drop the journal index. */
  | { kind: 'drop-stray-changes'; changes: string[]; notice: string }
  /** Nothing to do here: the caller observes the clone again (what it did not read yet depends on the remedies before). */
  | { kind: 'observe-again'; notice?: string }
  /** Commit everything uncommitted (never ignored files) with this message; `frames`: the records it covers. */
  | { kind: 'commit-recovered'; message: string[]; frames: number[]; notice?: string }
  /** Push this clone's unpushed commits (rebasing them onto the remote's new ones when rejected). */
  | { kind: 'push'; notice?: string };

/** One row of {@link RECOVERY_TABLE}: a state a clone can be found in, and its remedy. */
interface Rule<O extends CloneObservation> {
  moment: O['moment'];
  /** The state, in words. */
  state: string;
  /** True when the observation shows the state. */
  when(o: O, role: CloneRole): boolean;
  /** The remedy. */
  act(o: O): RecoveryAction;
}

/** A row of {@link RECOVERY_TABLE}, for one moment's observations. */
export type RecoveryRule = Rule<StartObservation> | Rule<StoreRecoveredObservation>;

/** Untracked inbox files the remote holds (none when the tree was not read). */
const interrupted = (o: StartObservation): string[] => o.tree?.interruptedCheckout ?? [];

/** Uncommitted changes no merge made, one line each; none while a merge is in flight or when the tree was not read. */
function stray(o: StartObservation): string[] {
  const t = o.tree;
  if (!t || t.mergeInFlight || t.lastRecordFrame === undefined) return [];
  if (t.lastRecordFrame === 'corrupt') return ['journal/merges.ndjson: not a journal framelog wrote'];
  return strayChanges(t.storeStatus ?? [], t.lastRecordFrame);
}

const fresh = (o: StoreRecoveredObservation): MergeRecord[] => o.uncommittedRecords ?? [];

/**
 * Every state a crashed or interrupted clone can be found in, and its remedy, in the order they
 * are checked and done. At `start`, the first rows are the git folder's (any role), then the
 * merger's HEAD, index and working tree; an observation stops at the first stage that needs a
 * remedy, and the last row then asks for another look. At `store-recovered`, the merger commits
 * what a crash left uncommitted and pushes.
 */
export const RECOVERY_TABLE: readonly RecoveryRule[] = [
  // Safe to remove: the caller holds the clone's own lock, so no other framelog process runs git in it.
  {
    moment: 'start',
    state: 'lock files in .git (index.lock, HEAD.lock, MERGE_MSG.lock, ref locks): a git killed while holding them',
    when: (o) => o.staleLocks.length > 0,
    act: (o) => ({ kind: 'remove-stale-locks', paths: o.staleLocks }),
  },
  {
    moment: 'start',
    state: 'a rebase in progress (.git/rebase-merge or .git/rebase-apply): a pull or push killed mid-rebase',
    when: (o) => o.rebaseInProgress,
    act: () => ({ kind: 'abort-rebase' }),
  },
  // A rebase killed part way, whose --abort then failed (its state cut short), leaves HEAD detached
  // on the commits it had replayed so far and a working tree half-way through the next one:
  // committing that and pushing it would drop the merge commits not replayed yet while keeping
  // some of their archive moves (deltas archived with no record). The branch moves only when a
  // rebase finishes, so it still names every merge this clone committed: check it out again.
  {
    moment: 'start',
    state: 'merger: HEAD off its branch (a rebase killed part way whose --abort failed), the branch having a commit',
    when: (o, role) => role === 'merger' && o.head?.onBranch === false && o.head.branchHasCommit,
    act: (o) => ({ kind: 'reattach-branch', branch: o.branch }),
  },
  // The index is not fsynced (it is rebuilt from HEAD at will): a torn one is rebuilt, the working tree untouched.
  {
    moment: 'start',
    state: 'merger: git cannot read the index (torn: it is not fsynced)',
    when: (o, role) => role === 'merger' && o.indexReadable === false,
    act: () => ({ kind: 'rebuild-index' }),
  },
  // A merger killed while `git merge --ff-only` (or a rebase) was writing the writers' new inbox
  // files leaves some untracked, possibly empty or cut short. The next pull brings them back whole;
  // a recovery commit must never add a torn copy (it would conflict with the writers' commit when
  // rebased). Untracked inbox files the remote does not hold stay. Removing them changes nothing
  // the stray-changes row below reads (it ignores untracked inbox files): no second look needed.
  {
    moment: 'start',
    state: 'merger: untracked inbox files the remote branch holds (a pull killed while checking them out, maybe torn)',
    when: (o, role) => role === 'merger' && interrupted(o).length > 0,
    act: (o) => ({ kind: 'drop-interrupted-checkout', paths: interrupted(o) }),
  },
  // The merge lists inbox/ and writes the others: a folder git removed (it took the folder's last
  // file) is made again, merge in flight or not.
  {
    moment: 'start',
    state: 'merger: a store folder missing (git removes a folder once a checkout, a rebase or its abort took its last file)',
    when: (o, role) => role === 'merger' && (o.tree?.missingFolders.length ?? 0) > 0,
    act: (o) => ({ kind: 'make-store-folders', folders: o.tree?.missingFolders ?? [] }),
  },
  // With a merge in flight (an intent), the store's own recovery owns the tree. Otherwise changes no
  // merge can have made (see strayChanges) are a git rewrite cut short: committing them would
  // archive deltas with no record, or drop deltas. Back to the branch's commit: what is lost was
  // never committed, and its deltas are still in the inbox there, so the next merge makes it again.
  {
    moment: 'start',
    state: 'merger, no merge in flight: uncommitted changes no merge made, or a journal framelog did not write (a git killed mid-rewrite)',
    when: (o, role) => role === 'merger' && stray(o).length > 0,
    act: (o) => {
      const s = stray(o);
      return {
        kind: 'drop-stray-changes',
        changes: s,
        notice: `${o.dir}: ${s.length} uncommitted change${s.length === 1 ? '' : 's'} no merge made (a git killed mid-rewrite; first: ${s[0]}): back to the last commit`,
      };
    },
  },
  {
    moment: 'start',
    state: 'merger: HEAD, the index or the tree not read yet (a remedy above changes them)',
    when: (o, role) => role === 'merger' && o.tree === undefined,
    act: () => ({ kind: 'observe-again' }),
  },
  {
    moment: 'store-recovered',
    state: 'uncommitted changes, and a store folder missing',
    when: (o) => o.uncommittedChanges && (o.missingFolders?.length ?? 0) > 0,
    act: (o) => ({ kind: 'make-store-folders', folders: o.missingFolders ?? [] }),
  },
  // Runs once the core finished or undid a half merge: what the journal records past HEAD's copy of
  // it is committed as the merge commit(s) the crash prevented, anything else as a recovery commit.
  {
    moment: 'store-recovered',
    state: 'uncommitted changes, and one record past the journal in HEAD: a merger killed before its git commit',
    when: (o) => o.uncommittedChanges && fresh(o).length === 1,
    act: (o) => ({ kind: 'commit-recovered', message: mergeMessage(fresh(o)[0]), frames: [fresh(o)[0].frame] }),
  },
  {
    moment: 'store-recovered',
    state: 'uncommitted changes, and several records past the journal in HEAD',
    when: (o) => o.uncommittedChanges && fresh(o).length > 1,
    act: (o) => ({ kind: 'commit-recovered', message: [`merge frames ${fresh(o)[0].frame}–${fresh(o).at(-1)!.frame} (recovered after a crash)`], frames: fresh(o).map((r) => r.frame) }),
  },
  {
    moment: 'store-recovered',
    state: 'uncommitted changes, and no record past the journal in HEAD (quarantined files, or the store\'s own recovery)',
    when: (o) => o.uncommittedChanges && fresh(o).length === 0,
    act: () => ({ kind: 'commit-recovered', message: ['quarantine and recovery: changes a crashed merger left uncommitted'], frames: [] }),
  },
  {
    moment: 'store-recovered',
    state: 'always: merges committed but not pushed before a crash, or the recovery commit',
    when: () => true,
    act: () => ({ kind: 'push' }),
  },
];

/**
 * Decides what to do about a clone: the remedy of every {@link RECOVERY_TABLE} row whose state
 * `o` shows, in table order. Pure: the same observation and role give the same actions. A list
 * ending in `observe-again` means: apply it, then observe and decide again.
 */
export function decideRecovery(o: CloneObservation, role: CloneRole): RecoveryAction[] {
  const out: RecoveryAction[] = [];
  for (const rule of RECOVERY_TABLE) {
    if (rule.moment !== o.moment) continue;
    // Same moment, so `o` is the observation this row reads.
    const r = rule as Rule<CloneObservation>;
    if (r.when(o, role)) out.push(r.act(o));
  }
  return out;
}
