import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunView } from '../../run/RunView.js';
import { cladogramFromEvents, toNewick, type Cladogram } from './cladogram.js';
import { cladogramSvg } from './cladogramSvg.js';

/** Where the cladogram files went. */
export interface CladogramFiles {
  cladogram: Cladogram;
  json: string;
  newick: string;
  svg: string;
}

/**
 * Computes the cladogram of a run from its event log (speciation, extinction, birth and death
 * events) and writes it as JSON, Newick and SVG into `outDir`.
 */
export async function exportCladogram(run: RunView, outDir: string): Promise<CladogramFiles> {
  const log = await run.log();
  const lastFrame = log.at(-1)?.frame ?? 0;
  const cladogram = cladogramFromEvents(await run.events(), lastFrame);
  mkdirSync(outDir, { recursive: true });
  const files = { json: join(outDir, 'cladogram.json'), newick: join(outDir, 'cladogram.nwk'), svg: join(outDir, 'cladogram.svg') };
  writeFileSync(files.json, JSON.stringify(cladogram, null, 1) + '\n');
  writeFileSync(files.newick, toNewick(cladogram) + '\n');
  writeFileSync(files.svg, cladogramSvg(cladogram));
  return { cladogram, ...files };
}
