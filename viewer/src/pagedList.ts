import { isAbort } from './api.js';
import { virtualList, type VirtualList } from './virtualList.js';

/** One page of an index-cursor endpoint (`/api/conflicts`, `/api/events`). */
export interface Page<T> { records: T[]; cursor: number; next: number | null; total: number }

/**
 * A virtual list over an index-paged endpoint: pages load as they scroll into view, so a journal of
 * any length costs one page per screen. `reset()` after the filters change.
 */
export function pagedList<T>(opts: { rowHeight: number; pageSize: number; testid: string; fetch(cursor: number, limit: number, signal: AbortSignal): Promise<Page<T>>; row(r: T, i: number): HTMLElement; onTotal?(total: number): void; onError?(e: Error): void }): { list: VirtualList; reset(): Promise<void> } {
  let rows = new Map<number, T>();
  let loading = new Set<number>();
  let controller = new AbortController();
  let generation = 0;
  const loadPage = async (page: number): Promise<void> => {
    if (loading.has(page)) return;
    loading.add(page);
    const g = generation;
    try {
      const p = await opts.fetch(page * opts.pageSize, opts.pageSize, controller.signal);
      if (g !== generation) return;
      p.records.forEach((r, k) => rows.set(p.cursor + k, r));
      if (p.total !== list.count) {
        list.setCount(p.total);
        opts.onTotal?.(p.total);
      } else list.refresh();
    } catch (e) {
      if (!isAbort(e)) opts.onError?.(e as Error);
      loading.delete(page);
    }
  };
  const list = virtualList({
    rowHeight: opts.rowHeight,
    testid: opts.testid,
    className: 'table',
    row(i) {
      const r = rows.get(i);
      return r === undefined ? null : opts.row(r, i);
    },
    need(from, to) {
      for (let p = Math.floor(from / opts.pageSize); p <= Math.floor(to / opts.pageSize); p++) void loadPage(p);
    },
  });
  return {
    list,
    async reset() {
      controller.abort();
      controller = new AbortController();
      generation++;
      rows = new Map();
      loading = new Set();
      list.setCount(0, { top: true });
      await loadPage(0);
      list.element.dataset.ready = String(generation);
    },
  };
}
