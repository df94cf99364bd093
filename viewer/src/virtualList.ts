import { el } from './dom.js';

/** A list that renders only the rows in view (fixed row height), for lists of any length. */
export interface VirtualList {
  readonly element: HTMLElement;
  /** Sets the row count and re-renders (keeps the scroll position unless `top`). */
  setCount(n: number, opts?: { top?: boolean }): void;
  /** Re-renders the rows in view (after their data arrived). */
  refresh(): void;
  scrollToIndex(i: number): void;
  readonly count: number;
}

/**
 * `row(i)` makes row i's element, or returns null when its data is not loaded yet (a placeholder
 * is shown and `need(from, to)` is called with the missing range in view, so pages load on demand).
 */
export function virtualList(opts: { rowHeight: number; row: (i: number) => HTMLElement | null; need?: (from: number, to: number) => void; testid?: string; className?: string }): VirtualList {
  const h = opts.rowHeight;
  const spacer = el('div', { class: 'vl-spacer' });
  const rows = el('div', { class: 'vl-rows' });
  const element = el('div', { class: `vl ${opts.className ?? ''}`, 'data-testid': opts.testid, 'data-total': 0 }, spacer, rows);
  let count = 0;
  const render = (): void => {
    const top = element.scrollTop;
    const height = element.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / h) - 10);
    const last = Math.min(count - 1, Math.ceil((top + height) / h) + 10);
    rows.style.transform = `translateY(${first * h}px)`;
    const out: HTMLElement[] = [];
    let missFrom = -1, missTo = -1;
    for (let i = first; i <= last; i++) {
      let r = opts.row(i);
      if (!r) {
        r = el('div', { class: 'vl-loading' }, '…');
        if (missFrom < 0) missFrom = i;
        missTo = i;
      }
      r.style.height = `${h}px`;
      r.dataset.index = String(i);
      out.push(r);
    }
    rows.replaceChildren(...out);
    if (missFrom >= 0) opts.need?.(missFrom, missTo);
  };
  // Scroll events come at most once per frame: render at once, so no blank rows show.
  element.addEventListener('scroll', render);
  new ResizeObserver(() => render()).observe(element);
  return {
    element,
    get count() {
      return count;
    },
    setCount(n, o = {}) {
      count = n;
      element.dataset.total = String(n);
      spacer.style.height = `${n * h}px`;
      if (o.top) element.scrollTop = 0;
      render();
    },
    refresh: render,
    scrollToIndex(i) {
      element.scrollTop = i * h;
      render();
    },
  };
}
