import type { MergeRecord } from '../../merge/records.js';

/** The commit message of merge N: its subject, then what it did, for `git log` (one `-m` each). */
export function mergeMessage(r: MergeRecord): string[] {
  return [
    `merge frame ${r.frame}`,
    `applied ${r.applied.length}, late ${r.late.length}, duplicates ${r.duplicates.length}, fallback ${r.fallback.length}, missing ${r.missing.length}, quarantined ${r.quarantined.length}, conflicts ${r.conflicts}\n${r.state_sha256 ? `state_sha256 ${r.state_sha256}` : 'no checkpoint'}`,
  ];
}
