import { api, isAbort } from '../api.js';
import type { View } from '../app.js';
import { el, mount } from '../dom.js';
import { COLOURS, svg } from '../svg.js';

interface Series { frames: number[]; series: Record<string, number[]>; cut: boolean }

const W = 760, H = 260, PAD = 40;

/** Counters over frames: pick counters from the list, see them as lines; the timeline's frame is marked, a click on the chart moves it. */
export const countersView: View = {
  id: 'counters',
  title: 'Counters',
  usesFrame: true,
  mount(container, app) {
    let data: Series | null = null;
    const picked = new Set((app.param('counters') ?? '').split(',').filter(Boolean));
    const picker = el('div', { class: 'counter-picker', 'data-testid': 'counter-picker' });
    const chart = el('div', { class: 'counter-chart', 'data-testid': 'counter-chart' });
    const readout = el('div', { class: 'muted', 'data-testid': 'counter-readout' });
    const note = el('p', { class: 'muted' });
    mount(container, el('div', { class: 'toolbar' }, el('b', {}, 'Counters over frames'), note), picker, chart, readout);
    let controller: AbortController | null = null;

    const draw = (): void => {
      if (!data) return;
      const d = data;
      const names = Object.keys(d.series).filter((n) => picked.has(n));
      const at = d.frames.indexOf(app.frame);
      readout.textContent = at < 0 ? `frame ${app.frame}: no merge` : `frame ${app.frame}: ` + names.map((n) => `${n} = ${d.series[n][at]}`).join(' · ');
      if (names.length === 0 || d.frames.length === 0) {
        mount(chart, el('p', { class: 'muted' }, d.frames.length === 0 ? 'No merge yet.' : 'Pick a counter above.'));
        return;
      }
      const values = names.flatMap((n) => d.series[n]);
      const lo = Math.min(0, ...values), hi = Math.max(1, ...values);
      const f0 = d.frames[0], f1 = d.frames.at(-1)!;
      const x = (f: number): number => PAD + ((f - f0) / Math.max(1, f1 - f0)) * (W - 2 * PAD);
      const y = (v: number): number => H - PAD / 2 - ((v - lo) / (hi - lo)) * (H - PAD);
      const lines = names.map((n, k) => svg('polyline', {
        points: d.series[n].map((v, i) => `${x(d.frames[i]).toFixed(1)},${y(v).toFixed(1)}`).join(' '),
        fill: 'none', stroke: COLOURS[k % COLOURS.length], 'stroke-width': 1.5, 'data-counter': n,
      }));
      const label = (text: string, attrs: Record<string, string | number>): SVGElement => {
        const t = svg('text', { 'font-size': 11, fill: '#555', ...attrs });
        t.textContent = text;
        return t;
      };
      const plot = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': `counters ${names.join(', ')} over frames ${f0} to ${f1}` },
        svg('rect', { x: PAD, y: PAD / 2, width: W - 2 * PAD, height: H - PAD, fill: '#fafafa', stroke: '#ddd' }),
        label(String(hi), { x: PAD - 4, y: PAD / 2 + 10, 'text-anchor': 'end' }), label(String(lo), { x: PAD - 4, y: H - PAD / 2, 'text-anchor': 'end' }),
        label(`frame ${f0}`, { x: PAD, y: H - 4 }), label(`frame ${f1}`, { x: W - PAD, y: H - 4, 'text-anchor': 'end' }),
        ...lines,
        svg('line', { x1: x(app.frame), x2: x(app.frame), y1: PAD / 2, y2: H - PAD / 2, stroke: '#333', 'stroke-dasharray': '3 3', 'data-testid': 'counter-frame' }));
      // A click picks the merge nearest to where it landed.
      plot.addEventListener('click', (ev) => {
        const r = plot.getBoundingClientRect();
        const fx = f0 + ((((ev as MouseEvent).clientX - r.left) * (W / r.width) - PAD) / (W - 2 * PAD)) * (f1 - f0);
        let best = d.frames[0];
        for (const f of d.frames) if (Math.abs(f - fx) < Math.abs(best - fx)) best = f;
        app.setFrame(best);
      });
      mount(chart, plot as unknown as HTMLElement, el('div', { class: 'legend' }, ...names.map((n, k) => el('span', { class: 'chip', style: `border-color:${COLOURS[k % COLOURS.length]}` }, n))));
    };

    const load = async (): Promise<void> => {
      controller?.abort();
      const c = (controller = new AbortController());
      try {
        const d = await api<Series>('counter-series', {}, { signal: c.signal });
        data = d;
        const names = Object.keys(d.series).sort();
        if (picked.size === 0 && names.length > 0) picked.add(names[0]);
        note.textContent = d.cut ? ` (the last ${d.frames.length} merges)` : '';
        mount(picker, ...(names.length ? names.map((n) => el('label', { class: 'counter-choice' },
          el('input', { type: 'checkbox', value: n, 'data-testid': `counter-${n}`, checked: picked.has(n), onchange: (ev: Event) => {
            if ((ev.target as HTMLInputElement).checked) picked.add(n);
            else picked.delete(n);
            app.setParams({ counters: [...picked].join(',') || null });
            draw();
          } }), ` ${n}`)) : [el('span', { class: 'muted' }, 'No counters in this store.')]));
        draw();
      } catch (e) {
        if (!isAbort(e)) mount(chart, el('p', { class: 'error' }, `counters: ${(e as Error).message}`));
      }
    };
    void load();
    return { frameChanged: () => draw(), mergesChanged: () => void load(), dispose: () => controller?.abort() };
  },
};
