import { isAbort } from '../api.js';
import type { View } from '../app.js';
import { el, mount } from '../dom.js';
import { flattenTree, pathKey, type TreeRow } from '../jsonTree.js';
import { virtualList } from '../virtualList.js';

/** The state tree at the chosen frame: expandable, virtualised, changed leaves marked; raw JSON one click away. */
export const stateView: View = {
  id: 'state',
  title: 'State',
  usesFrame: true,
  mount(container, app) {
    const opened = new Set<string>();
    const closed = new Set<string>();
    let expandAll = app.param('expand') === 'all';
    let raw = app.param('raw') === '1';
    let state: unknown = null;
    let text = '';
    let rows: TreeRow[] = [];
    let previous = new Map<string, string>();
    let controller: AbortController | null = null;

    const heading = el('div', { class: 'view-head' });
    const rawBox = el('pre', { class: 'raw', 'data-testid': 'state-raw' });
    const list = virtualList({
      rowHeight: 22,
      testid: 'state-tree',
      className: 'tree',
      row(i) {
        const r = rows[i];
        const k = pathKey(r.path);
        const container = r.kind !== 'leaf';
        const isOpen = container && isOpenAt(k, r.depth);
        const changed = r.kind === 'leaf' && previous.size > 0 && previous.get(k) !== r.text;
        return el('div', {
          class: `tree-row ${r.kind}${changed ? ' changed' : ''}`,
          style: `padding-left:${r.depth * 16 + 4}px`,
          'data-path': k, 'data-kind': r.kind, ...(r.kind === 'leaf' ? { 'data-value': r.text } : {}),
          onclick: container ? () => toggle(k, r.depth) : undefined,
        },
        el('span', { class: 'twisty' }, container ? (isOpen ? '▾' : '▸') : ''),
        el('span', { class: 'key' }, r.key),
        el('span', { class: 'sep' }, ': '),
        container ? el('span', { class: 'size' }, r.kind === 'array' ? `[${r.size}]` : `{${r.size}}`) : el('code', { class: 'value', title: r.text.length > 80 ? r.text.slice(0, 2000) : undefined }, r.text));
      },
    });
    const isOpenAt = (k: string, depth: number): boolean => (closed.has(k) ? false : expandAll || opened.has(k) || depth < 1);
    const toggle = (k: string, depth: number): void => {
      if (isOpenAt(k, depth)) {
        closed.add(k);
        opened.delete(k);
      } else {
        closed.delete(k);
        opened.add(k);
      }
      rebuild(false);
    };
    const rebuild = (markChanges: boolean): void => {
      const before = markChanges ? new Map(rows.filter((r) => r.kind === 'leaf').map((r) => [pathKey(r.path), r.text])) : previous;
      rows = flattenTree(state, isOpenAt);
      previous = before;
      list.setCount(rows.length);
      rawBox.textContent = raw ? text : '';
    };
    const expandBtn = el('button', { 'data-testid': 'expand-all', onclick: () => {
      expandAll = !expandAll;
      opened.clear();
      closed.clear();
      app.setParams({ expand: expandAll ? 'all' : null });
      expandBtn.textContent = expandAll ? 'Collapse all' : 'Expand all';
      rebuild(false);
    } }, expandAll ? 'Collapse all' : 'Expand all');
    const rawBtn = el('button', { 'data-testid': 'raw-toggle', onclick: () => {
      raw = !raw;
      app.setParams({ raw: raw ? '1' : null });
      show();
    } }, 'Raw JSON');
    const body = el('div', { class: 'state-body' });
    const show = (): void => {
      rawBtn.classList.toggle('active', raw);
      rawBox.textContent = raw ? text : '';
      mount(body, raw ? rawBox : list.element);
      if (!raw) list.refresh();
    };
    mount(container, el('div', { class: 'toolbar' }, heading, expandBtn, rawBtn), body);
    show();

    const load = async (frame: number): Promise<void> => {
      controller?.abort();
      const c = (controller = new AbortController());
      heading.dataset.loading = '1';
      try {
        const res = await fetch(`/api/state?at=${frame}`, { signal: c.signal, credentials: 'same-origin' });
        if (!res.ok) throw new Error((await res.json() as { message: string }).message);
        const t = await res.text();
        if (c.signal.aborted) return;
        text = t;
        state = JSON.parse(t);
        const merge = res.headers.get('framelog-frame');
        mount(heading, el('span', { 'data-testid': 'state-frame', 'data-frame': frame, 'data-merge': merge ?? '' },
          'State at frame ', el('b', {}, String(frame)), merge === null ? ' (before the first merge: empty)' : merge === String(frame) ? '' : ` (= after merge ${merge}: no merge at ${frame})`));
        rebuild(true);
        show();
      } catch (e) {
        if (!isAbort(e)) mount(heading, el('span', { class: 'error' }, `state at ${frame}: ${(e as Error).message}`));
      } finally {
        if (controller === c) delete heading.dataset.loading;
      }
    };
    void load(app.frame);
    return {
      frameChanged: (f) => void load(f),
      mergesChanged: () => undefined,
      dispose: () => controller?.abort(),
    };
  },
};
