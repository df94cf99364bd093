import { join } from 'node:path';

/** Paths of a filesystem store (PROTOCOL §5). */
export interface StoreLayout {
  root: string;
  plan: string;
  inbox: string;
  archive: string;
  quarantine: string;
  journal: string;
  merges: string;
  conflicts: string;
  events: string;
  plans: string;
  intent: string;
  snapshots: string;
  views: string;
  streams: string;
  lock: string;
}

/** The default store root when neither `--dir` nor `FRAMELOG_DIR` is given. */
export const DEFAULT_STORE_DIR = '.framelog';

/** Resolves the store directory: explicit argument, then `FRAMELOG_DIR`, then `.framelog`. */
export function resolveStoreDir(dir?: string): string {
  return dir ?? process.env.FRAMELOG_DIR ?? DEFAULT_STORE_DIR;
}

/** The paths of the store rooted at `root`. */
export function storeLayout(root: string): StoreLayout {
  const journal = join(root, 'journal');
  return {
    root,
    plan: join(root, 'framelog.json'),
    inbox: join(root, 'inbox'),
    archive: join(root, 'archive'),
    quarantine: join(root, 'quarantine'),
    journal,
    merges: join(journal, 'merges.ndjson'),
    conflicts: join(journal, 'conflicts.ndjson'),
    events: join(journal, 'events.ndjson'),
    plans: join(journal, 'plans.ndjson'),
    intent: join(journal, 'merge-intent.json'),
    snapshots: join(root, 'snapshots'),
    views: join(root, 'views'),
    streams: join(root, 'streams'),
    lock: join(root, 'merger.lock'),
  };
}

/** The archive folder of merge `frame`, relative to the store root. */
export function archiveDirName(frame: number): string {
  return `archive/merge-${String(frame).padStart(9, '0')}`;
}

/** The snapshot file of frame `frame`, relative to the store root. */
export function snapshotName(frame: number): string {
  return `snapshots/frame-${String(frame).padStart(9, '0')}.json`;
}
