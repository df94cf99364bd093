import { isAbort } from '../api.js';
import type { View } from '../app.js';
import { el, mount } from '../dom.js';
import { flattenTree, pathKey, type TreeRow } from '../jsonTree.js';
import { virtualList } from '../virtualList.js';
import { stateAside } from './stateAside.js';

const isField = (p: Array<string | number>): boolean => p.length === 4 && p[0] === 'entities';

/** The state tree at the chosen frame: expandable, virtualised, leaves changed since frame N − 1 marked; raw JSON one click away; beside it, the deltas of the merge shown and the history of a field clicked. */
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
    /** The state at frame N − 1 (null at frame 0: nothing is marked). */
    let before: unknown = null;
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
          'data-path': k, 'data-kind': r.kind, ...(r.kind === 'leaf' ? { 'data-value': r.text } : {}), ...(changed ? { 'data-changed': '1' } : {}),
          // A field's leaf (entities › type › id › field) opens its history beside the tree.
          onclick: container ? () => toggle(k, r.depth) : isField(r.path) ? () => aside.showField(String(r.path[1]), String(r.path[2]), String(r.path[3])) : undefined,
          ...(isField(r.path) ? { title: 'every write to this field' } : {}),
        },
        el('span', { class: 'twisty' }, container ? (isOpen ? '▾' : '▸') : ''),
        el('span', { class: 'key' }, r.key),
        el('span', { class: 'sep' }, ': '),
        container ? el('span', { class: 'size' }, r.kind === 'array' ? `[${r.size}]` : `{${r.size}}`) : el('code', { class: 'value', title: r.text.length > 80 ? r.text.slice(0, 2000) : undefined }, r.text));
      },
    });
    const aside = stateAside(app);
    const isOpenAt = (k: string, depth: number): boolean => (closed.has(k) ? false : expandAll || opened.has(k) || depth < 1);
    const toggle = (k: string, depth: number): void => {
      if (isOpenAt(k, depth)) {
        closed.add(k);
        opened.delete(k);
      } else {
        closed.delete(k);
        opened.add(k);
      }
      rebuild();
    };
    const rebuild = (): void => {
      rows = flattenTree(state, isOpenAt);
      // The same rows of frame N − 1: a leaf is marked when its value differs there or it is new.
      previous = before === null ? new Map() : new Map(flattenTree(before, isOpenAt).filter((r) => r.kind === 'leaf').map((r) => [pathKey(r.path), r.text]));
      list.setCount(rows.length);
      rawBox.textContent = raw ? text : '';
    };
    const expandBtn = el('button', { 'data-testid': 'expand-all', onclick: () => {
      expandAll = !expandAll;
      opened.clear();
      closed.clear();
      app.setParams({ expand: expandAll ? 'all' : null });
      expandBtn.textContent = expandAll ? 'Collapse all' : 'Expand all';
      rebuild();
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
    mount(container, el('div', { class: 'toolbar' }, heading, expandBtn, rawBtn), el('div', { class: 'state-layout' }, body, aside.element));
    show();

    const load = async (frame: number): Promise<void> => {
      controller?.abort();
      const c = (controller = new AbortController());
      heading.dataset.loading = '1';
      try {
        const get = async (at: number): Promise<Response> => {
          const res = await fetch(`/api/state?at=${at}`, { signal: c.signal, credentials: 'same-origin' });
          if (!res.ok) throw new Error((await res.json() as { message: string }).message);
          return res;
        };
        const [res, prev] = await Promise.all([get(frame), frame > 0 ? get(frame - 1).then((r) => r.json() as Promise<unknown>) : Promise.resolve(null)]);
        const t = await res.text();
        if (c.signal.aborted) return;
        text = t;
        state = JSON.parse(t);
        before = prev;
        const merge = res.headers.get('framelog-frame');
        aside.showMerge(merge === null ? null : Number(merge));
        mount(heading, el('span', { 'data-testid': 'state-frame', 'data-frame': frame, 'data-merge': merge ?? '' },
          'State at frame ', el('b', {}, String(frame)), merge === null ? ' (before the first merge: empty)' : merge === String(frame) ? '' : ` (= after merge ${merge}: no merge at ${frame})`),
          frame > 0 ? el('span', { class: 'legend-changed', 'data-testid': 'changed-legend' }, el('span', { class: 'changed-swatch' }, 'value'), ` changed since frame ${frame - 1}`) : '');
        rebuild();
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
      dispose: () => {
        controller?.abort();
        aside.dispose();
      },
    };
  },
};
