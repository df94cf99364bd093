import { api, isAbort } from '../api.js';
import type { App } from '../app.js';
import { el, json, mount } from '../dom.js';

interface Archived { merge: number; deltas: Array<{ file: string; sha256: string; delta?: { frame?: number; writer?: string; seq?: number; utc?: string }; problem?: string }> }
interface Write { merge: number; frame: number; writer: string; seq: number; utc: string; value: unknown; outcome: 'won' | 'lost' | 'same'; conflict?: string; resolvedBy?: { merge: number } }
interface HistoryPage { writes: Write[]; next?: number; scanned: number }

/** The panel beside the state tree: the deltas of the merge shown, and the history of a field picked in the tree. */
export interface StateAside {
  element: HTMLElement;
  /** Lists the deltas merge `merge` archived (none before the first merge). */
  showMerge(merge: number | null): void;
  /** Shows every write to `entities.<type>.<id>.<field>`, newest first, a page at a time. */
  showField(type: string, id: string, field: string): void;
  dispose(): void;
}

/** Builds the state view's side panel. */
export function stateAside(app: App): StateAside {
  const deltasBox = el('section', { 'data-testid': 'merge-deltas' });
  const historyBox = el('section', { 'data-testid': 'field-history' }, el('p', { class: 'muted' }, 'Click a field (entities › type › id › field) to see every write to it.'));
  const element = el('aside', { class: 'delta-panel state-aside' }, historyBox, deltasBox);
  let mergeCtl: AbortController | null = null;
  let fieldCtl: AbortController | null = null;

  const showDelta = (d: Archived['deltas'][number], row: HTMLElement): void => {
    const open = row.nextElementSibling?.classList.contains('delta-open');
    for (const x of deltasBox.querySelectorAll('.delta-open')) x.remove();
    if (!open) row.after(el('pre', { class: 'json delta-open', 'data-testid': 'delta-json' }, d.problem ?? JSON.stringify(d.delta, null, 2)));
  };

  const showMerge = (merge: number | null): void => {
    mergeCtl?.abort();
    if (merge === null) {
      mount(deltasBox, el('h3', {}, 'Deltas'), el('p', { class: 'muted' }, 'No merge yet.'));
      return;
    }
    const c = (mergeCtl = new AbortController());
    void (async () => {
      try {
        const a = await api<Archived>('archive', { merge }, { signal: c.signal });
        const rows = a.deltas.map((d) => {
          const row: HTMLElement = el('div', {
            class: 'delta-row', 'data-testid': 'merge-delta', 'data-writer': d.delta?.writer ?? '', title: d.file,
            onclick: () => showDelta(d, row),
          },
          el('b', {}, d.delta?.writer ?? '?'), ` seq ${d.delta?.seq ?? 0}, frame ${d.delta?.frame ?? '?'}`, d.problem ? el('span', { class: 'error' }, ` ${d.problem}`) : '');
          return row;
        });
        mount(deltasBox, el('h3', {}, `Deltas of merge ${merge} (${a.deltas.length})`), ...(rows.length ? rows : [el('p', { class: 'muted' }, 'This merge archived no delta.')]));
      } catch (e) {
        if (!isAbort(e)) mount(deltasBox, el('p', { class: 'error' }, `deltas of merge ${merge}: ${(e as Error).message}`));
      }
    })();
  };

  const showField = (type: string, id: string, field: string): void => {
    fieldCtl?.abort();
    const c = (fieldCtl = new AbortController());
    const list = el('div', { class: 'history-list' });
    const more = el('button', { 'data-testid': 'history-more' }, 'Older writes');
    more.hidden = true;
    mount(historyBox, el('h3', {}, 'History of ', el('code', {}, `${type}.${id}.${field}`)), list, more);
    const page = async (before?: number): Promise<void> => {
      try {
        const p = await api<HistoryPage>('field-history', { type, id, field, before, limit: 50 }, { signal: c.signal });
        for (const w of p.writes) {
          list.append(el('div', { class: `history-row outcome-${w.outcome}`, 'data-testid': 'history-write', 'data-merge': w.merge, 'data-outcome': w.outcome },
            el('a', { href: '#', title: `go to frame ${w.merge}`, onclick: (ev: Event) => { ev.preventDefault(); app.setFrame(w.merge); } }, `merge ${w.merge}`),
            ` ${w.writer}#${w.seq} `, el('code', {}, json(w.value)), ' ', el('span', { class: 'outcome' }, w.outcome),
            w.conflict ? el('a', { class: 'conflict-link', 'data-testid': 'history-conflict', href: '#', onclick: (ev: Event) => { ev.preventDefault(); app.go('conflicts', { frame: w.merge, kind: 'field', type, id, field }); } }, ` ${w.conflict}`) : '',
            w.resolvedBy ? el('span', { class: 'muted' }, ` resolved in merge ${w.resolvedBy.merge}`) : ''));
        }
        if (p.writes.length === 0 && list.childElementCount === 0 && p.next === undefined) list.append(el('p', { class: 'muted' }, 'No write to this field in the history.'));
        more.hidden = p.next === undefined;
        more.onclick = () => void page(p.next);
      } catch (e) {
        if (!isAbort(e)) list.append(el('p', { class: 'error' }, `history: ${(e as Error).message}`));
      }
    };
    void page();
  };

  return { element, showMerge, showField, dispose: () => { mergeCtl?.abort(); fieldCtl?.abort(); } };
}
