// A hash of a folder tree, for "the store was not touched" assertions. Tests only (excluded from the build).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** SHA-256 over every path (folders included) and file content under `dir`, sorted: equal hashes, equal trees. */
export function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        h.update(`d ${p}\n`);
        walk(p);
      } else {
        h.update(`f ${p} `).update(readFileSync(join(dir, p))).update('\n');
      }
    }
  };
  walk('');
  return h.digest('hex');
}
