import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { MergeRecord } from '../../merge/records.js';
import { initStore } from '../../store/storeContext.js';
import { applyRecovery, type RecoveryDeps } from './applyRecovery.js';
import { decideRecovery, RECOVERY_TABLE, type RecoveryAction } from './decideRecovery.js';
import { observeClone, type StartObservation, type StoreRecoveredObservation, type TreeObservation } from './observeClone.js';
import { recoverClone } from './recoverClone.js';
import { parseStatus } from './strayChanges.js';

const st = (...entries: string[]) => parseStatus(entries.map((e) => e + '\0').join(''));

/** A merger's clone that needs nothing, read all the way to its tree (journal ending at frame 3). */
const cleanTree: TreeObservation = { missingFolders: [], interruptedCheckout: [], mergeInFlight: false, lastRecordFrame: 3, storeStatus: [] };
const merger = (o: Partial<StartObservation> = {}, tree: Partial<TreeObservation> = {}): StartObservation => ({
  moment: 'start', dir: '/m', branch: 'main', staleLocks: [], rebaseInProgress: false,
  head: { onBranch: true }, indexReadable: true, tree: { ...cleanTree, ...tree }, ...o,
});
/** What observeClone reads of a writer's clone: its git folder only. */
const writer = (o: Partial<StartObservation> = {}): StartObservation => ({ moment: 'start', dir: '/w', branch: 'main', staleLocks: [], rebaseInProgress: false, ...o });
/** A merger's observation that stopped at the git folder or HEAD (the rest not read). */
const stopped = (o: Partial<StartObservation>): StartObservation => ({ moment: 'start', dir: '/m', branch: 'main', staleLocks: [], rebaseInProgress: false, ...o });

const LOCKS = ['/m/.git/index.lock', '/m/.git/refs/heads/main.lock'];

describe('decideRecovery at start: one test per observed state', () => {
  it('a clone that needs nothing: no action, for the merger and for a writer', () => {
    expect(decideRecovery(merger(), 'merger')).toStrictEqual([]);
    expect(decideRecovery(writer(), 'writer')).toStrictEqual([]);
  });

  it('stale git locks: removed, silently; the merger then looks again (its HEAD, index and tree were not read)', () => {
    expect(decideRecovery(writer({ staleLocks: LOCKS }), 'writer')).toStrictEqual([{ kind: 'remove-stale-locks', paths: LOCKS }]);
    expect(decideRecovery(stopped({ staleLocks: LOCKS }), 'merger')).toStrictEqual([{ kind: 'remove-stale-locks', paths: LOCKS }, { kind: 'observe-again' }]);
  });

  it('a rebase in progress: aborted; the merger then looks again', () => {
    expect(decideRecovery(writer({ rebaseInProgress: true }), 'writer')).toStrictEqual([{ kind: 'abort-rebase' }]);
    expect(decideRecovery(stopped({ rebaseInProgress: true }), 'merger')).toStrictEqual([{ kind: 'abort-rebase' }, { kind: 'observe-again' }]);
  });

  it('stale locks and a rebase: the locks go first, then the abort', () => {
    expect(decideRecovery(stopped({ staleLocks: LOCKS, rebaseInProgress: true }), 'merger').map((a) => a.kind)).toStrictEqual(['remove-stale-locks', 'abort-rebase', 'observe-again']);
    expect(decideRecovery(writer({ staleLocks: LOCKS, rebaseInProgress: true }), 'writer').map((a) => a.kind)).toStrictEqual(['remove-stale-locks', 'abort-rebase']);
  });

  it('merger, HEAD off its branch that has a commit: back on the branch, then another look', () => {
    expect(decideRecovery(stopped({ head: { onBranch: false, branchHasCommit: true } }), 'merger')).toStrictEqual([{ kind: 'reattach-branch', branch: 'main' }, { kind: 'observe-again' }]);
  });

  it('merger, HEAD off a branch with no commit yet (a clone of an empty remote): nothing to go back to, the rest is judged', () => {
    expect(decideRecovery(merger({ head: { onBranch: false, branchHasCommit: false } }), 'merger')).toStrictEqual([]);
    expect(decideRecovery(merger({ head: { onBranch: false, branchHasCommit: false } }, { interruptedCheckout: ['inbox/a.json'] }), 'merger').map((a) => a.kind)).toStrictEqual(['drop-interrupted-checkout']);
  });

  it('merger, an index git cannot read: rebuilt from HEAD, then another look', () => {
    expect(decideRecovery(stopped({ head: { onBranch: true }, indexReadable: false }), 'merger')).toStrictEqual([{ kind: 'rebuild-index' }, { kind: 'observe-again' }]);
  });

  it('merger, untracked inbox files the remote holds (a checkout cut short): removed, silently, even with a merge in flight', () => {
    const paths = ['inbox/frame-000004.w1.0.aa.json', 'inbox/frame-000004.w2.0.bb.json'];
    expect(decideRecovery(merger({}, { interruptedCheckout: paths }), 'merger')).toStrictEqual([{ kind: 'drop-interrupted-checkout', paths }]);
    expect(decideRecovery(merger({}, { interruptedCheckout: paths, mergeInFlight: true, lastRecordFrame: undefined, storeStatus: undefined }), 'merger')).toStrictEqual([{ kind: 'drop-interrupted-checkout', paths }]);
  });

  it('merger, store folders git removed (it took their last file): made again, silently, even with a merge in flight', () => {
    expect(decideRecovery(merger({}, { missingFolders: ['inbox', 'views'] }), 'merger')).toStrictEqual([{ kind: 'make-store-folders', folders: ['inbox', 'views'] }]);
    expect(decideRecovery(merger({}, { missingFolders: ['inbox'], mergeInFlight: true, lastRecordFrame: undefined, storeStatus: undefined }), 'merger')).toStrictEqual([{ kind: 'make-store-folders', folders: ['inbox'] }]);
  });

  it('merger, a delta moved into the archive of a frame the journal does not record (no merge in flight): back to the last commit, said in one notice', () => {
    const status = st(' D inbox/frame-000004.w1.0.aa.json', '?? archive/merge-000000004.ndjson');
    expect(decideRecovery(merger({}, { storeStatus: status }), 'merger')).toStrictEqual([{
      kind: 'drop-stray-changes',
      changes: ['inbox/frame-000004.w1.0.aa.json: deleted, but not in the archive or the quarantine', 'archive/merge-000000004.ndjson: archived by no recorded merge (the journal ends at frame 3)'],
      notice: '/m: 2 uncommitted changes no merge made (a git killed mid-rewrite; first: inbox/frame-000004.w1.0.aa.json: deleted, but not in the archive or the quarantine): back to the last commit',
    }]);
  });

  it('merger, several stray changes: counted in the notice, the first named', () => {
    const [a] = decideRecovery(merger({}, { storeStatus: st(' D archive/merge-000000001/frame-000001.w1.0.aa.json', ' D inbox/frame-000009.w2.0.cc.json') }), 'merger');
    expect(a).toMatchObject({ kind: 'drop-stray-changes', changes: ['archive/merge-000000001/frame-000001.w1.0.aa.json: an archived delta deleted (the archive only grows)', 'inbox/frame-000009.w2.0.cc.json: deleted, but not in the archive or the quarantine'] });
    expect(a.notice).toBe('/m: 2 uncommitted changes no merge made (a git killed mid-rewrite; first: archive/merge-000000001/frame-000001.w1.0.aa.json: an archived delta deleted (the archive only grows)): back to the last commit');
  });

  it('merger, a journal framelog did not write: back to the last commit', () => {
    expect(decideRecovery(merger({}, { lastRecordFrame: 'corrupt', storeStatus: undefined }), 'merger')).toStrictEqual([{
      kind: 'drop-stray-changes',
      changes: ['journal/merges.ndjson: not a journal framelog wrote'],
      notice: '/m: 1 uncommitted change no merge made (a git killed mid-rewrite; first: journal/merges.ndjson: not a journal framelog wrote): back to the last commit',
    }]);
  });

  it('merger, what merges do (recorded frames archived, quarantine, new inbox files), or a merge in flight: nothing', () => {
    const merged = st(' D inbox/frame-000003.w1.0.aa.json', '?? archive/merge-000000003.ndjson', ' D inbox/bad.json', '?? quarantine/bad.json', '?? inbox/frame-000004.w1.0.bb.json');
    expect(decideRecovery(merger({}, { storeStatus: merged }), 'merger')).toStrictEqual([]);
    expect(decideRecovery(merger({}, { mergeInFlight: true, lastRecordFrame: undefined, storeStatus: undefined }), 'merger')).toStrictEqual([]);
  });

  it('merger, a checkout cut short, a folder missing and stray changes: the torn inbox files go first, then the folders are made, then the tree goes back', () => {
    const o = merger({}, { interruptedCheckout: ['inbox/frame-000005.w1.0.dd.json'], missingFolders: ['snapshots'], storeStatus: st('?? archive/merge-000000009.ndjson') });
    expect(decideRecovery(o, 'merger').map((a) => a.kind)).toStrictEqual(['drop-interrupted-checkout', 'make-store-folders', 'drop-stray-changes']);
  });

  it('a writer is never given the merger\'s remedies, whatever the observation holds', () => {
    const o = merger({ head: { onBranch: false, branchHasCommit: true }, indexReadable: false }, { interruptedCheckout: ['inbox/x.json'], storeStatus: st('?? archive/merge-000000009.ndjson') });
    expect(decideRecovery(o, 'writer')).toStrictEqual([]);
    expect(decideRecovery(writer({ staleLocks: LOCKS }), 'writer').map((a) => a.kind)).toStrictEqual(['remove-stale-locks']);
  });

  it('is pure: a frozen observation, the same actions every time', () => {
    const o = merger({ staleLocks: LOCKS }, { storeStatus: st('?? archive/merge-000000009.ndjson') });
    const freeze = (v: unknown): void => {
      if (v && typeof v === 'object') {
        Object.freeze(v);
        for (const x of Object.values(v)) freeze(x);
      }
    };
    freeze(o);
    expect(decideRecovery(o, 'merger')).toStrictEqual(decideRecovery(o, 'merger'));
    expect(decideRecovery(o, 'merger').map((a) => a.kind)).toStrictEqual(['remove-stale-locks', 'drop-stray-changes']);
  });
});

const record = (frame: number, extra: Partial<MergeRecord> = {}): MergeRecord => ({
  frame, utc: '2026-05-01T00:00:00.000Z', applied: [], late: [], fallback: [], missing: [], duplicates: [], skewed: [], quarantined: [], conflicts: 0,
  conflicts_sha256: '', events_sha256: '', plan_sha256: '', archive_sha256: '', prev: null, ...extra,
});
const recovered = (o: Partial<StoreRecoveredObservation>): StoreRecoveredObservation => ({ moment: 'store-recovered', dir: '/m', uncommittedChanges: false, ...o });

describe('decideRecovery once the store recovered: one test per observed state', () => {
  it('nothing uncommitted: push only (merges committed before the crash may not be pushed yet)', () => {
    expect(decideRecovery(recovered({}), 'merger')).toStrictEqual([{ kind: 'push' }]);
  });

  it('uncommitted changes and one record past HEAD\'s journal: committed as that merge, then pushed', () => {
    const r = record(4, { applied: [{ frame: 4, writer: 'w1', seq: 0 }, { frame: 4, writer: 'w2', seq: 0 }] as MergeRecord['applied'], fallback: ['w3'], conflicts: 2, state_sha256: 'ab12' });
    expect(decideRecovery(recovered({ uncommittedChanges: true, uncommittedRecords: [r] }), 'merger')).toStrictEqual([
      { kind: 'commit-recovered', message: ['merge frame 4', 'applied 2, late 0, duplicates 0, fallback 1, missing 0, quarantined 0, conflicts 2\nstate_sha256 ab12'], frames: [4] },
      { kind: 'push' },
    ]);
  });

  it('uncommitted changes and several records: one commit naming the frames, then pushed', () => {
    expect(decideRecovery(recovered({ uncommittedChanges: true, uncommittedRecords: [record(4), record(5)] }), 'merger')).toStrictEqual([
      { kind: 'commit-recovered', message: ['merge frames 4–5 (recovered after a crash)'], frames: [4, 5] },
      { kind: 'push' },
    ]);
  });

  it('uncommitted changes and a store folder missing: the folder is made before the commit', () => {
    expect(decideRecovery(recovered({ uncommittedChanges: true, missingFolders: ['inbox'], uncommittedRecords: [record(7)] }), 'merger').map((a) => a.kind)).toStrictEqual(['make-store-folders', 'commit-recovered', 'push']);
    expect(decideRecovery(recovered({ uncommittedChanges: true, missingFolders: ['inbox'], uncommittedRecords: [record(7)] }), 'merger')[0]).toStrictEqual({ kind: 'make-store-folders', folders: ['inbox'] });
  });

  it('uncommitted changes and no new record: a quarantine and recovery commit, then pushed', () => {
    expect(decideRecovery(recovered({ uncommittedChanges: true, uncommittedRecords: [] }), 'merger')).toStrictEqual([
      { kind: 'commit-recovered', message: ['quarantine and recovery: changes a crashed merger left uncommitted'], frames: [] },
      { kind: 'push' },
    ]);
  });

  it('the start rows never read a store-recovered observation, nor the other way round', () => {
    expect(RECOVERY_TABLE.filter((r) => r.moment === 'start').length).toBe(8);
    expect(RECOVERY_TABLE.filter((r) => r.moment === 'store-recovered').length).toBe(5);
    expect(decideRecovery(recovered({ uncommittedChanges: true, uncommittedRecords: [record(1)] }), 'merger').map((a) => a.kind)).toStrictEqual(['commit-recovered', 'push']);
  });
});

describe('applyRecovery and recoverClone on a real git repository', () => {
  const root = mkdtempSync(join(tmpdir(), 'framelog-recovery-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  afterEach(() => vi.restoreAllMocks());
  const g = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const DELTA = 'inbox/frame-000001.w1.0.aa.json';
  let n = 0;
  /** A merger's store in a git repository (no remote): framelog.json and one inbox file committed on main. */
  const store = (): string => {
    const dir = join(root, `s${n++}`);
    mkdirSync(dir);
    g(dir, 'init', '--quiet', '--initial-branch=main');
    for (const [k, v] of [['user.name', 't'], ['user.email', 't@t.invalid'], ['commit.gpgSign', 'false']]) g(dir, 'config', k, v);
    initStore(dir);
    writeFileSync(join(dir, DELTA), '{"frame":1}\n');
    g(dir, 'add', '--all');
    g(dir, 'commit', '--quiet', '-m', 'one');
    return dir;
  };
  const deps = (dir: string, notices: string[]): RecoveryDeps => ({
    dir,
    log: (line) => notices.push(line),
    commit: () => { throw new Error('no commit expected'); },
    push: async () => { throw new Error('no push expected'); },
  });
  const clone = (dir: string) => ({ dir, branch: 'main', upstream: 'origin/main', role: 'merger' as const, moment: 'start' as const });

  it('applyRecovery: the stray-changes notice goes to the injected logger, never to stderr, and the tree is back at the last commit', async () => {
    const dir = store();
    // A half-replayed merge: the delta moved into the archive of a frame the (empty) journal does not record.
    mkdirSync(join(dir, 'archive', 'merge-000000001'), { recursive: true });
    writeFileSync(join(dir, 'archive', 'merge-000000001', 'frame-000001.w1.0.aa.json'), '{"frame":1}\n');
    rmSync(join(dir, DELTA));
    const actions = decideRecovery(await observeClone(clone(dir)), 'merger');
    const expected: RecoveryAction[] = [{
      kind: 'drop-stray-changes',
      changes: ['archive/merge-000000001/frame-000001.w1.0.aa.json: archived by no recorded merge (the journal ends at frame 0)'],
      notice: `${dir}: 1 uncommitted change no merge made (a git killed mid-rewrite; first: archive/merge-000000001/frame-000001.w1.0.aa.json: archived by no recorded merge (the journal ends at frame 0)): back to the last commit`,
    }];
    expect(actions).toStrictEqual(expected);
    const stderr = vi.spyOn(process.stderr, 'write');
    const notices: string[] = [];
    await applyRecovery(actions, deps(dir, notices));
    expect(notices).toStrictEqual([expected[0].notice]);
    expect(stderr).not.toHaveBeenCalled();
    expect(existsSync(join(dir, DELTA))).toBe(true);
    expect(existsSync(join(dir, 'archive', 'merge-000000001'))).toBe(false);
    expect(existsSync(join(dir, 'archive'))).toBe(true);
    expect(g(dir, 'status', '--porcelain')).toBe('');
  });

  it('recoverClone: stale locks, then a detached HEAD, each found only once the remedy before it ran; silent; the clone ends on its branch', async () => {
    const dir = store();
    writeFileSync(join(dir, 'inbox', 'frame-000002.w1.0.bb.json'), '{"frame":2}\n');
    g(dir, 'add', '--all');
    g(dir, 'commit', '--quiet', '-m', 'two');
    g(dir, 'checkout', '--quiet', '--detach', 'HEAD~1');
    writeFileSync(join(dir, 'inbox', 'half-replayed.json'), '{'); // untracked, not on the remote: the reattach clears it
    writeFileSync(join(dir, '.git', 'MERGE_MSG.lock'), '');
    writeFileSync(join(dir, '.git', 'framelog-merger.lock'), ''); // framelog's own: never a stale git lock
    const stderr = vi.spyOn(process.stderr, 'write');
    const notices: string[] = [];
    const applied = await recoverClone(clone(dir), deps(dir, notices));
    expect(applied).toStrictEqual([
      { kind: 'remove-stale-locks', paths: [join(dir, '.git', 'MERGE_MSG.lock')] },
      { kind: 'observe-again' },
      { kind: 'reattach-branch', branch: 'main' },
      { kind: 'observe-again' },
    ]);
    expect(notices).toStrictEqual([]);
    expect(stderr).not.toHaveBeenCalled();
    expect(g(dir, 'symbolic-ref', 'HEAD').trim()).toBe('refs/heads/main');
    expect(existsSync(join(dir, 'inbox', 'frame-000002.w1.0.bb.json'))).toBe(true);
    expect(existsSync(join(dir, 'inbox', 'half-replayed.json'))).toBe(false);
    expect(existsSync(join(dir, '.git', 'MERGE_MSG.lock'))).toBe(false);
    expect(existsSync(join(dir, '.git', 'framelog-merger.lock'))).toBe(true);
    // Settled: another recovery finds nothing to do.
    expect(await recoverClone(clone(dir), deps(dir, notices))).toStrictEqual([]);
  });

  it('recoverClone: store folders that do not exist are made again (git removes a folder it emptied)', async () => {
    const dir = store();
    rmSync(join(dir, 'views'), { recursive: true });
    rmSync(join(dir, 'quarantine'), { recursive: true });
    expect(await recoverClone(clone(dir), deps(dir, []))).toStrictEqual([{ kind: 'make-store-folders', folders: ['quarantine', 'views'] }]);
    expect(existsSync(join(dir, 'views')) && existsSync(join(dir, 'quarantine'))).toBe(true);
  });

  it('recoverClone: a torn index is rebuilt from HEAD, the working tree untouched', async () => {
    const dir = store();
    writeFileSync(join(dir, '.git', 'index'), 'DIRC torn');
    const applied = await recoverClone(clone(dir), deps(dir, []));
    expect(applied.map((a) => a.kind)).toStrictEqual(['rebuild-index', 'observe-again']);
    expect(g(dir, 'status', '--porcelain')).toBe('');
  });
});
