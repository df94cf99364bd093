import { api } from '../api.js';
import type { View } from '../app.js';
import { el, json, mount } from '../dom.js';
import { pagedList, type Page } from '../pagedList.js';
import { resolveForm, type Conflict, type Side } from './resolveForm.js';

const FILTERS = ['status', 'frame', 'kind', 'type', 'id', 'field', 'collection', 'writer'] as const;
/** The policy that chose a field's winner, as one word. */
const policyText = (c: Conflict): string => (c.kind !== 'field' || c.policy === undefined ? '' : typeof c.policy === 'string' ? c.policy : 'priority');
const side = (s: Side): string => `${json(s.value)} by ${s.writer} @${s.frame}`;

/** The place a conflict record is about, as one line. */
export function placeOf(c: Conflict): string {
  if (c.kind === 'field') return `${c.type}/${c.id}.${c.field}`;
  if (c.kind === 'item') return `${c.collection}[${c.key}]`;
  return `delta ${c.frame}/${c.writer}/${c.seq}`;
}

/**
 * The conflict journal as a filtered table: id, the policy that chose the winner, base, winner,
 * every loser, and whether it is open (with a button to resolve it) or resolved (linked to the
 * resolution delta).
 */
export const conflictsView: View = {
  id: 'conflicts',
  title: 'Conflicts',
  usesFrame: false,
  mount(container, app) {
    const inputs = Object.fromEntries(FILTERS.map((k) => [k, k === 'kind'
      ? el('select', { 'data-testid': `filter-${k}` }, ...['', 'field', 'item', 'delta'].map((v) => el('option', { value: v }, v || 'any kind')))
      : k === 'status'
      ? el('select', { 'data-testid': `filter-${k}` }, ...['', 'open', 'resolved'].map((v) => el('option', { value: v }, v || 'open or resolved')))
      : el('input', { type: 'text', placeholder: k === 'frame' ? 'N or A..B' : k === 'type' ? 'entity type' : k, size: k === 'frame' ? 8 : 10, 'data-testid': `filter-${k}` })])) as Record<(typeof FILTERS)[number], HTMLInputElement | HTMLSelectElement>;
    for (const k of FILTERS) inputs[k].value = app.param(k) ?? '';
    const total = el('span', { class: 'summary', 'data-testid': 'conflicts-total' });
    const formSlot = el('div', { 'data-testid': 'resolve-slot' });
    const note = el('span', { class: 'summary', 'data-testid': 'resolve-note' });
    const statusCell = (c: Conflict): HTMLElement => {
      if (c.resolvedBy) {
        const r = c.resolvedBy;
        // The resolution is an archived delta of merge r.merge: link to it as received.
        return el('a', { class: 'c-status resolved', href: `/api/archive?merge=${r.merge}&writer=${encodeURIComponent(r.writer)}`, target: '_blank', title: `resolved by ${r.writer} (delta ${r.frame}/${r.writer}/${r.seq}, applied by merge ${r.merge})` }, `resolved by ${r.writer} @${r.merge}`);
      }
      return el('span', { class: 'c-status open' }, 'open ', el('button', {
        type: 'button', 'data-testid': `resolve-${c.conflict}`, onclick: () => {
          mount(formSlot, resolveForm(c, (msg) => {
            note.textContent = msg;
            mount(formSlot);
          }, () => mount(formSlot)));
        },
      }, 'resolve'));
    };
    const { list, reset } = pagedList<Conflict>({
      rowHeight: 24,
      pageSize: 200,
      testid: 'conflict-rows',
      fetch: (cursor, limit, signal) => {
        const { status, ...rest } = Object.fromEntries(FILTERS.map((k) => [k, inputs[k].value.trim()]));
        return api<Page<Conflict>>('conflicts', { ...rest, open: status === 'open' ? 'true' : status === 'resolved' ? 'false' : undefined, cursor, limit }, { signal });
      },
      row: (c) => el('div', { class: `row kind-${c.kind}`, 'data-kind': c.kind, 'data-conflict': c.conflict },
        el('span', { class: 'c-id' }, c.conflict),
        el('span', { class: 'c-merge' }, el('a', { href: `?view=state&frame=${c.merge}`, onclick: (e: Event) => { e.preventDefault(); app.setFrame(c.merge); app.go('state'); } }, String(c.merge))),
        el('span', { class: 'c-kind' }, c.kind),
        el('span', { class: 'c-place', title: placeOf(c) }, placeOf(c)),
        el('span', { class: 'c-policy' }, policyText(c)),
        el('code', { class: 'c-base' }, c.kind === 'field' ? json(c.base) : ''),
        el('code', { class: 'c-winner', title: c.kind === 'delta' ? c.kept : side(c.winner) }, c.kind === 'delta' ? `kept ${c.kept.slice(0, 12)}` : side(c.winner)),
        el('code', { class: 'c-losers', title: c.kind === 'delta' ? c.other : c.losers.map(side).join('; ') }, c.kind === 'delta' ? `other ${c.other.slice(0, 12)}` : c.losers.map(side).join('; ')),
        statusCell(c)),
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
        total, note),
      formSlot,
      el('div', { class: 'row head' }, ...['id', 'merge', 'kind', 'place', 'policy', 'base', 'winner', 'losers', 'status'].map((h) => el('span', {}, h))),
      list.element);
    apply();
    return {};
  },
};
