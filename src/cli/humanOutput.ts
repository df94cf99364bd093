import type { StateDiff } from '../merge/diffStates.js';
import type { MergeRecord } from '../merge/records.js';
import { style } from './output.js';

/** One line per merge: what it applied, and what it set aside. */
export function printMergeSummary(records: MergeRecord[]): void {
  if (records.length === 0) {
    process.stdout.write('nothing to merge\n');
    return;
  }
  for (const r of records) {
    const parts = [`${r.applied.length} applied`];
    if (r.late.length) parts.push(style.yellow(`${r.late.length} late`));
    if (r.duplicates.length) parts.push(`${r.duplicates.length} duplicates`);
    if (r.fallback.length) parts.push(style.yellow(`fallback: ${r.fallback.join(',')}`));
    if (r.missing.length) parts.push(style.yellow(`missing: ${r.missing.join(',')}`));
    if (r.skewed.length) parts.push(style.yellow(`${r.skewed.length} skewed`));
    if (r.conflicts) parts.push(style.cyan(`${r.conflicts} conflicts`));
    if (r.resolved?.length) parts.push(style.green(`resolved ${r.resolved.map((x) => x.conflict).slice(0, 6).join(' ')}${r.resolved.length > 6 ? ` (+${r.resolved.length - 6})` : ''}`));
    if (r.quarantined.length) parts.push(style.red(`${r.quarantined.length} quarantined`));
    process.stdout.write(`merged frame ${style.bold(String(r.frame))}: ${parts.join(', ')}${r.state_sha256 ? '  ' + style.dim(r.state_sha256.slice(0, 12)) : ''}\n`);
  }
}

const show = (v: unknown): string => JSON.stringify(v);

/** The diff as lines a person reads. */
export function printDiff(d: StateDiff): void {
  const out: string[] = [`diff frame ${d.from} → frame ${d.to}${d.from > d.to ? ' (backward: what the frames between added shows as removed)' : ''}`];
  for (const f of d.fields) out.push(`  ${style.cyan('set')} ${f.type}/${f.id}.${f.field}: ${'old' in f ? show(f.old) : '∅'} → ${show(f.new)}  ${style.dim(`by ${f.writer} @ frame ${f.frame}`)}`);
  for (const i of d.items) out.push(`  ${style.green('item')} ${i.collection} ${i.key}: ${show(i.item)}${i.replaced ? ` (replaced ${show(i.replaced)})` : ''}  ${style.dim(`by ${i.writer} @ frame ${i.frame}`)}`);
  for (const f of d.fieldsRemoved) out.push(`  ${style.red('unset')} ${f.type}/${f.id}.${f.field}: ${show(f.old)} → ∅`);
  for (const i of d.itemsRemoved) out.push(`  ${style.red('no item')} ${i.collection} ${i.key}: ${show(i.item)}`);
  for (const c of d.counters) out.push(`  ${style.yellow('counter')} ${c.name}: ${c.old} → ${c.new} (${c.delta >= 0 ? '+' : ''}${c.delta})`);
  if (out.length === 1) out.push('  no changes');
  process.stdout.write(out.join('\n') + '\n');
}
