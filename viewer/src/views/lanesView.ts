import { api, isAbort } from '../api.js';
import type { View } from '../app.js';
import { el, mount } from '../dom.js';

type Status = 'ok' | 'late' | 'fallback' | 'missing' | 'quarantined';
interface Cell { status: Status; all: Status[]; deltas: Array<{ frame: number; seq: number; sha256?: string; status: Status }> }
interface Lanes { writers: string[]; merges: Array<{ index: number; frame: number; cells: Record<string, Cell> }>; count: number }
interface Archived { merge: number; deltas: Array<{ file: string; sha256: string; delta?: unknown; problem?: string }> }

const STATUSES: Status[] = ['ok', 'late', 'fallback', 'missing', 'quarantined'];
const WINDOW = 61;

/** A swimlane per writer: its deltas per merge, coloured by status, each delta one click away. */
export const lanesView: View = {
  id: 'writers',
  title: 'Writers',
  usesFrame: true,
  mount(container, app) {
    let controller: AbortController | null = null;
    let detail: AbortController | null = null;
    const grid = el('div', { class: 'lanes', 'data-testid': 'lanes' });
    const panel = el('aside', { class: 'delta-panel', 'data-testid': 'delta-panel' }, el('p', { class: 'muted' }, 'Click a cell to see the delta.'));
    const caption = el('span', { class: 'summary', 'data-testid': 'lanes-caption' });
    const legend = el('div', { class: 'legend' }, ...STATUSES.map((s) => el('span', { class: `chip status-${s}` }, s)), el('span', { class: 'chip status-none' }, 'no delta'));

    const open = async (merge: number, writer: string, cell: Cell): Promise<void> => {
      detail?.abort();
      const c = (detail = new AbortController());
      mount(panel, el('h3', {}, `${writer} in merge ${merge}`), el('p', { class: 'muted' }, `status: ${cell.all.join(', ')}`), el('p', {}, '…'));
      try {
        const a = await api<Archived>('archive', { merge, writer }, { signal: c.signal });
        const body = cell.status === 'missing' && a.deltas.length === 0
          ? [el('p', {}, `Expected, but no delta from ${writer} had arrived when frame ${merge} closed.`)]
          : cell.status === 'quarantined'
            ? [el('p', {}, 'Set aside: it broke the protocol. See the quarantine in the Events view.'), ...a.deltas.map((d) => el('pre', { class: 'json' }, JSON.stringify(d.delta, null, 2)))]
            : a.deltas.map((d) => el('div', { class: 'delta' }, el('div', { class: 'muted' }, d.file), el('pre', { class: 'json', 'data-testid': 'delta-json' }, d.problem ?? JSON.stringify(d.delta, null, 2))));
        mount(panel, el('h3', {}, `${writer} in merge ${merge}`), el('p', { class: 'muted' }, `status: ${cell.all.join(', ')}`), ...body);
      } catch (e) {
        if (!isAbort(e)) mount(panel, el('p', { class: 'error' }, (e as Error).message));
      }
    };

    const load = async (frame: number): Promise<void> => {
      controller?.abort();
      const c = (controller = new AbortController());
      const from = Math.max(0, frame - (WINDOW >> 1));
      try {
        const lanes = await api<Lanes>('lanes', { frame: `${from}..${from + WINDOW - 1}`, limit: WINDOW }, { signal: c.signal });
        const cols = lanes.merges.length;
        grid.style.gridTemplateColumns = `minmax(7em, max-content) repeat(${cols}, minmax(10px, 1fr))`;
        const cells: HTMLElement[] = [el('div', { class: 'lane-corner' }, 'writer \\ frame')];
        for (const [i, m] of lanes.merges.entries()) {
          // A frame number is wider than its column and runs over the next ones: none in the last
          // three columns, where the grid's edge would cut it ("180" shown as "18").
          const label = m.frame === frame ? '▼' : m.frame % 5 === 0 && Math.abs(m.frame - frame) > 2 && i < cols - 3 ? String(m.frame) : '';
          cells.push(el('div', { class: `lane-head${m.frame === frame ? ' current' : ''}`, title: `frame ${m.frame}`, onclick: () => app.setFrame(m.frame) }, label ? el('span', { class: 'lane-label', 'data-testid': 'lane-label' }, label) : ''));
        }
        for (const w of lanes.writers) {
          cells.push(el('div', { class: 'lane-name', title: w }, w));
          for (const m of lanes.merges) {
            const cell = m.cells[w];
            const status = cell?.status ?? 'none';
            cells.push(el('div', {
              class: `lane-cell status-${status}${m.frame === frame ? ' current' : ''}`,
              'data-writer': w, 'data-frame': m.frame, 'data-status': status,
              title: `${w}, merge ${m.frame}: ${cell ? cell.all.join(', ') : 'no delta'}`,
              onclick: cell ? () => void open(m.frame, w, cell) : undefined,
            }));
          }
        }
        grid.replaceChildren(...cells);
        grid.dataset.frame = String(frame);
        const here = lanes.merges.find((m) => m.frame === frame);
        const tally = here ? STATUSES.map((s) => [s, Object.values(here.cells).filter((x) => x.status === s).length] as const).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(', ') : 'no merge at this frame';
        caption.textContent = `${lanes.writers.length} writers · merges ${lanes.merges[0]?.frame ?? '—'}…${lanes.merges.at(-1)?.frame ?? '—'} · frame ${frame}: ${tally}`;
      } catch (e) {
        if (!isAbort(e)) caption.textContent = (e as Error).message;
      }
    };
    mount(container, el('div', { class: 'toolbar' }, caption, legend), el('div', { class: 'lanes-wrap' }, grid, panel));
    void load(app.frame);
    return {
      frameChanged: (f) => void load(f),
      mergesChanged: () => void load(app.frame),
      dispose: () => {
        controller?.abort();
        detail?.abort();
      },
    };
  },
};
