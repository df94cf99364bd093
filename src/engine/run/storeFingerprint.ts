import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every file of a store and its SHA-256, and one hash over them all. */
export interface StoreFingerprint {
  /** SHA-256 over the sorted `path sha256` lines. */
  sha256: string;
  /** Relative path → SHA-256 of the file's bytes. */
  files: Record<string, string>;
}

/**
 * Hashes every file of the store at `dir` (journals, archive, snapshots, indexes, plan,
 * `run.json`), leaving out the merger lock and dot-named temp files: two runs with the same name,
 * seed and code must give the same fingerprint.
 */
export function storeFingerprint(dir: string): StoreFingerprint {
  const files: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      if (e.name.startsWith('.') || (rel === '' && e.name === 'merger.lock')) continue;
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else files[p] = createHash('sha256').update(readFileSync(join(dir, p))).digest('hex');
    }
  };
  walk('');
  const h = createHash('sha256');
  for (const p of Object.keys(files).sort()) h.update(`${p} ${files[p]}\n`);
  return { sha256: h.digest('hex'), files };
}
