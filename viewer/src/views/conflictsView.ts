import { api } from '../api.js';
import type { View } from '../app.js';
import { el, json, mount } from '../dom.js';
import { pagedList, type Page } from '../pagedList.js';

interface Side { value: unknown; frame: number; utc: string; writer: string; seq: number }
type Conflict =
  | { merge: number; kind: 'field'; type: string; id: string; field: string; base?: unknown; winner: Side; losers: Side[] }
  | { merge: number; kind: 'item'; collection: string; key: string; winner: Side; losers: Side[] }
  | { merge: number; kind: 'delta'; frame: number; writer: string; seq: number; kept: string; other: string; file: string };

const FILTERS = ['frame', 'kind', 'type', 'id', 'field', 'collection', 'writer'] as const;
const side = (s: Side): string => `${json(s.value)} by ${s.writer} @${s.frame}`;

/** The place a conflict record is about, as one line. */
export function placeOf(c: Conflict): string {
  if (c.kind === 'field') return `${c.type}/${c.id}.${c.field}`;
  if (c.kind === 'item') return `${c.collection}[${c.key}]`;
  return `delta ${c.frame}/${c.writer}/${c.seq}`;
}

/** The conflict journal as a filtered table: base, winner and every loser. */
export const conflictsView: View = {
  id: 'conflicts',
  title: 'Conflicts',
  usesFrame: false,
  mount(container, app) {
    const inputs = Object.fromEntries(FILTERS.map((k) => [k, k === 'kind'
      ? el('select', { 'data-testid': `filter-${k}` }, ...['', 'field', 'item', 'delta'].map((v) => el('option', { value: v }, v || 'any kind')))
      : el('input', { type: 'text', placeholder: k === 'frame' ? 'N or A..B' : k === 'type' ? 'entity type' : k, size: k === 'frame' ? 8 : 10, 'data-testid': `filter-${k}` })])) as Record<(typeof FILTERS)[number], HTMLInputElement | HTMLSelectElement>;
    for (const k of FILTERS) inputs[k].value = app.param(k) ?? '';
    const total = el('span', { class: 'summary', 'data-testid': 'conflicts-total' });
    const { list, reset } = pagedList<Conflict>({
      rowHeight: 24,
      pageSize: 200,
      testid: 'conflict-rows',
      fetch: (cursor, limit, signal) => api<Page<Conflict>>('conflicts', { ...Object.fromEntries(FILTERS.map((k) => [k, inputs[k].value.trim()])), cursor, limit }, { signal }),
      row: (c) => el('div', { class: `row kind-${c.kind}`, 'data-kind': c.kind },
        el('span', { class: 'c-merge' }, el('a', { href: `?view=state&frame=${c.merge}`, onclick: (e: Event) => { e.preventDefault(); app.setFrame(c.merge); app.go('state'); } }, String(c.merge))),
        el('span', { class: 'c-kind' }, c.kind),
        el('span', { class: 'c-place', title: placeOf(c) }, placeOf(c)),
        el('code', { class: 'c-base' }, c.kind === 'field' ? json(c.base) : ''),
        el('code', { class: 'c-winner', title: c.kind === 'delta' ? c.kept : side(c.winner) }, c.kind === 'delta' ? `kept ${c.kept.slice(0, 12)}` : side(c.winner)),
        el('code', { class: 'c-losers', title: c.kind === 'delta' ? c.other : c.losers.map(side).join('; ') }, c.kind === 'delta' ? `other ${c.other.slice(0, 12)}` : c.losers.map(side).join('; '))),
      onTotal: (n) => {
        total.textContent = `${n.toLocaleString('en')} conflict${n === 1 ? '' : 's'}`;
      },
      onError: (e) => {
        total.textContent = e.message;
      },
    });
    const apply = (): void => {
      app.setParams(Object.fromEntries(FILTERS.map((k) => [k, inputs[k].value.trim() || null])));
      total.textContent = '…';
      void reset().then(() => {
        if (list.count === 0) total.textContent = 'no conflicts match';
      });
    };
    for (const k of FILTERS) inputs[k].addEventListener('change', apply);
    mount(container,
      el('form', { class: 'toolbar filters', onsubmit: (e: Event) => { e.preventDefault(); apply(); } },
        ...FILTERS.map((k) => el('label', {}, `${k} `, inputs[k])),
        el('button', { type: 'submit', 'data-testid': 'filter-apply' }, 'Filter'),
        el('button', { type: 'button', onclick: () => { for (const k of FILTERS) inputs[k].value = ''; apply(); } }, 'Clear'),
        total),
      el('div', { class: 'row head' }, ...['merge', 'kind', 'place', 'base', 'winner', 'losers'].map((h) => el('span', {}, h))),
      list.element);
    apply();
    return {};
  },
};
