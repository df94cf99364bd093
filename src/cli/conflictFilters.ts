import type { Command } from 'commander';
import { FramelogError } from '../errors.js';
import type { ConflictFilter } from '../store/history/journalQueries.js';
import { frameRange } from './output.js';

/** The conflict filter flags, as commander parses them. */
export interface ConflictFilterFlags { frame?: string; kind?: string; type?: string; id?: string; field?: string; collection?: string; writer?: string }

/** Adds the conflict filters (`--frame --kind --type --id --field --collection --writer`) to a command; `lead` starts each description. */
export function addConflictFilters(c: Command, lead = ''): Command {
  return c
    .option('--frame <n|a..b>', `${lead}the merge that recorded it, or an inclusive range like 10..20`)
    .option('--kind <kind>', `${lead}field, item or delta`)
    .option('--type <type>', `${lead}entity type`).option('--id <id>', `${lead}entity id`).option('--field <field>', `${lead}field name`)
    .option('--collection <name>', `${lead}item collection`).option('--writer <writer>', `${lead}a writer among winner and losers`);
}

/** The filter the flags give (only the flags given; a bad `--kind` or `--frame` is refused in one line). */
export function conflictFilterOf(o: ConflictFilterFlags): ConflictFilter {
  if (o.kind !== undefined && !['field', 'item', 'delta'].includes(o.kind)) throw new FramelogError(`--kind: must be field, item or delta (got ${o.kind})`, 'bad-argument');
  const f: ConflictFilter = { frame: frameRange(o.frame, '--frame'), kind: o.kind as ConflictFilter['kind'], type: o.type, id: o.id, field: o.field, collection: o.collection, writer: o.writer };
  for (const k of Object.keys(f) as Array<keyof ConflictFilter>) if (f[k] === undefined) delete f[k];
  return f;
}
