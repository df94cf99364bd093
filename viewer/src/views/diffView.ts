import { api, isAbort } from '../api.js';
import type { View } from '../app.js';
import { el, json, mount } from '../dom.js';
import { jsonDiff, pathText } from '../jsonDiff.js';
import { virtualList } from '../virtualList.js';

interface FieldChange { type: string; id: string; field: string; old?: unknown; new: unknown; writer: string; frame: number; seq: number }
interface ItemChange { collection: string; key: string; item: unknown; replaced?: unknown; writer: string; frame: number; seq: number }
interface CounterChange { name: string; old: number; new: number; delta: number }
interface StateDiff { from: number; to: number; fields: FieldChange[]; items: ItemChange[]; counters: CounterChange[] }

type Row = { kind: 'group'; label: string; count: number } | { kind: 'field'; c: FieldChange } | { kind: 'item'; c: ItemChange } | { kind: 'counter'; c: CounterChange };

/** Rows of a diff: fields grouped per entity, then items per collection, then counters. */
function rowsOf(d: StateDiff): Row[] {
  const rows: Row[] = [];
  let last = '';
  const fieldsOf = new Map<string, number>();
  for (const f of d.fields) fieldsOf.set(`${f.type}/${f.id}`, (fieldsOf.get(`${f.type}/${f.id}`) ?? 0) + 1);
  for (const c of d.fields) {
    const g = `${c.type}/${c.id}`;
    if (g !== last) rows.push({ kind: 'group', label: `entity ${c.type} / ${c.id}`, count: fieldsOf.get(g) ?? 0 });
    last = g;
    rows.push({ kind: 'field', c });
  }
  last = '';
  for (const c of d.items) {
    if (c.collection !== last) rows.push({ kind: 'group', label: `items ${c.collection}`, count: d.items.filter((x) => x.collection === c.collection).length });
    last = c.collection;
    rows.push({ kind: 'item', c });
  }
  if (d.counters.length) rows.push({ kind: 'group', label: 'counters', count: d.counters.length });
  for (const c of d.counters) rows.push({ kind: 'counter', c });
  return rows;
}

const isContainer = (v: unknown): boolean => typeof v === 'object' && v !== null;

/**
 * What changed inside one value (a field's object or array, an item that replaced another): each
 * changed leaf with its path, and both whole values one click away, never cut short.
 */
function detailOf(title: string, old: unknown, now: unknown): HTMLElement {
  const { changes, more } = jsonDiff(old, now);
  const whole = (label: string, v: unknown): HTMLElement => {
    const pre = el('pre', { class: 'json', hidden: true }, JSON.stringify(v, null, 2));
    return el('div', {}, el('button', { onclick: () => (pre.hidden = !pre.hidden) }, label), pre);
  };
  return el('div', { class: 'diff-detail', 'data-testid': 'diff-detail' },
    el('h3', {}, title, el('span', { class: 'muted' }, ` ${changes.length + more} change${changes.length + more === 1 ? '' : 's'} inside`)),
    el('div', { class: 'detail-rows' }, ...changes.map((c) => el('div', { class: `detail-row ${c.kind}`, 'data-testid': 'diff-inner', 'data-path': JSON.stringify(c.path), 'data-change': c.kind },
      el('code', { class: 'd-path' }, pathText(c.path)), el('span', { class: 'd-kind' }, c.kind),
      el('code', { class: 'c-old' }, c.kind === 'added' ? '' : json(c.old)), el('span', { class: 'arrow' }, c.kind === 'changed' ? '→' : ''),
      el('code', { class: 'c-new' }, c.kind === 'removed' ? '' : json(c.new)))),
      more ? el('p', { class: 'muted' }, `and ${more} more`) : ''),
    whole('Whole value before', old), whole('Whole value after', now));
}

const by = (c: { writer: string; frame: number; seq: number }): string => `${c.writer} @${c.frame}${c.seq ? `.${c.seq}` : ''}`;

/** The diff between any two frames, per entity and field, with the writer of each change; a changed object or array opens what changed inside it. */
export const diffView: View = {
  id: 'diff',
  title: 'Diff',
  usesFrame: true,
  mount(container, app) {
    let rows: Row[] = [];
    let controller: AbortController | null = null;
    const fromIn = el('input', { type: 'number', min: 0, 'data-testid': 'diff-from', 'aria-label': 'from frame' }) as HTMLInputElement;
    const toIn = el('input', { type: 'number', min: 0, 'data-testid': 'diff-to', 'aria-label': 'to frame' }) as HTMLInputElement;
    const follow = el('input', { type: 'checkbox', 'data-testid': 'diff-follow' }) as HTMLInputElement;
    const summary = el('span', { class: 'summary', 'data-testid': 'diff-summary' });
    const detail = el('div', { class: 'diff-detail-slot' });
    const list = virtualList({
      rowHeight: 24,
      testid: 'diff-rows',
      className: 'table',
      row(i) {
        const r = rows[i];
        if (r.kind === 'group') return el('div', { class: 'row group', 'data-kind': 'group' }, el('span', {}, r.label), el('span', { class: 'muted' }, ` ${r.count} change${r.count === 1 ? '' : 's'}`));
        if (r.kind === 'field') {
          const c = r.c;
          const nested = isContainer(c.old) || isContainer(c.new);
          return el('div', { class: `row${nested ? ' nested' : ''}`, 'data-kind': 'field', ...(nested ? { title: 'what changed inside: click', onclick: () => mount(detail, detailOf(`${c.type} / ${c.id} . ${c.field}`, c.old, c.new)) } : {}) },
            el('span', { class: 'c-type' }, c.type), el('span', { class: 'c-id' }, c.id), el('span', { class: 'c-field' }, c.field),
            el('code', { class: 'c-old', title: json(c.old) }, json(c.old)), el('span', { class: 'arrow' }, '→'),
            el('code', { class: 'c-new', title: json(c.new) }, json(c.new)), el('span', { class: 'c-writer' }, by(c)));
        }
        if (r.kind === 'item') {
          const c = r.c;
          const nested = c.replaced !== undefined || isContainer(c.item);
          return el('div', { class: `row${nested ? ' nested' : ''}`, 'data-kind': 'item', ...(nested ? { title: 'the item in full: click', onclick: () => mount(detail, detailOf(`${c.collection} [${c.key}]`, c.replaced, c.item)) } : {}) },
            el('span', { class: 'c-collection' }, c.collection), el('span', { class: 'c-key' }, c.key), el('span', {}, ''),
            el('code', { class: 'c-old', title: json(c.replaced) }, c.replaced === undefined ? '+' : json(c.replaced)), el('span', { class: 'arrow' }, '→'),
            el('code', { class: 'c-new', title: json(c.item) }, json(c.item)), el('span', { class: 'c-writer' }, by(c)));
        }
        const c = r.c;
        return el('div', { class: 'row', 'data-kind': 'counter' },
          el('span', { class: 'c-name' }, c.name), el('span', {}, ''), el('span', {}, ''), el('code', { class: 'c-old' }, String(c.old)), el('span', { class: 'arrow' }, '→'),
          el('code', { class: 'c-new' }, String(c.new)), el('span', { class: `c-delta ${c.delta < 0 ? 'neg' : 'pos'}` }, `${c.delta >= 0 ? '+' : ''}${c.delta}`));
      },
    });
    const load = async (): Promise<void> => {
      const from = Number(fromIn.value), to = Number(toIn.value);
      controller?.abort();
      const c = (controller = new AbortController());
      summary.textContent = '…';
      try {
        const d = await api<StateDiff>('diff', { from, to }, { signal: c.signal });
        rows = rowsOf(d);
        summary.dataset.from = String(from);
        summary.dataset.to = String(to);
        summary.textContent = `${d.fields.length} field${d.fields.length === 1 ? '' : 's'}, ${d.items.length} item${d.items.length === 1 ? '' : 's'}, ${d.counters.length} counter${d.counters.length === 1 ? '' : 's'} changed from frame ${from} to ${to}`;
        list.setCount(rows.length, { top: true });
        mount(detail);
      } catch (e) {
        if (!isAbort(e)) summary.textContent = `diff: ${(e as Error).message}`;
      }
    };
    const fromTimeline = (frame: number): void => {
      toIn.value = String(frame);
      fromIn.value = String(Math.max(app.first ?? 0, frame - 1));
    };
    const pFrom = app.param('from'), pTo = app.param('to');
    follow.checked = pFrom === null || pTo === null;
    if (follow.checked) fromTimeline(app.frame);
    else {
      fromIn.value = pFrom as string;
      toIn.value = pTo as string;
    }
    const manual = (): void => {
      follow.checked = false;
      app.setParams({ from: fromIn.value, to: toIn.value });
      void load();
    };
    fromIn.addEventListener('change', manual);
    toIn.addEventListener('change', manual);
    follow.addEventListener('change', () => {
      if (follow.checked) {
        app.setParams({ from: null, to: null });
        fromTimeline(app.frame);
        void load();
      }
    });
    mount(container,
      el('div', { class: 'toolbar' }, el('label', {}, 'from ', fromIn), el('label', {}, 'to ', toIn),
        el('label', { title: 'diff the previous frame against the timeline\'s frame' }, follow, ' follow the timeline'), summary),
      el('div', { class: 'row head' }, el('span', {}, 'type / collection'), el('span', {}, 'id / key'), el('span', {}, 'field'), el('span', {}, 'old'), el('span', {}, ''), el('span', {}, 'new'), el('span', {}, 'writer @ frame')),
      list.element, detail);
    void load();
    return {
      frameChanged(f) {
        if (!follow.checked) return;
        fromTimeline(f);
        void load();
      },
      dispose: () => controller?.abort(),
    };
  },
};
