import { api, hasRegister } from '../api.js';
import type { View } from '../app.js';
import { el, mount } from '../dom.js';
import { COLOURS, svg } from '../svg.js';

interface Populations { frames: number[]; regions: string[]; species: string[]; series: Record<string, Record<string, number[]>> }
interface Dispatch { agent: string; start: string; end: string | null; frames: Array<{ receipts: Record<string, number> }> }

/** One small plot: a line per species over the frames, the timeline's frame marked. */
function regionPlot(region: string, p: Populations, frame: number): HTMLElement {
  const W = 260, H = 120, pad = 4;
  const series = p.series[region] ?? {};
  const max = Math.max(1, ...Object.values(series).flat());
  const f0 = p.frames[0] ?? 0, f1 = p.frames.at(-1) ?? 1;
  const x = (f: number): number => pad + ((f - f0) / Math.max(1, f1 - f0)) * (W - 2 * pad);
  const y = (v: number): number => H - pad - (v / max) * (H - 2 * pad);
  const lines = p.species.map((s, k) => svg('polyline', { points: (series[s] ?? []).map((v, i) => `${x(p.frames[i]).toFixed(1)},${y(v).toFixed(1)}`).join(' '), fill: 'none', stroke: COLOURS[k % COLOURS.length], 'stroke-width': 1.5 }));
  const at = p.frames.indexOf(frame);
  const now = at >= 0 ? p.species.map((s) => `${s} ${series[s]?.[at] ?? 0}`).join(' · ') : '';
  return el('figure', { class: 'plot', 'data-region': region },
    svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': `populations of ${region}` },
      svg('rect', { x: 0, y: 0, width: W, height: H, fill: '#fafafa', stroke: '#ddd' }), ...lines,
      svg('line', { x1: x(frame), x2: x(frame), y1: 0, y2: H, stroke: '#333', 'stroke-dasharray': '3 3' })) as unknown as HTMLElement,
    el('figcaption', {}, el('b', {}, region), ` max ${max}`, el('div', { class: 'muted' }, now)));
}

/** Panels for the demos' derived views: the evolution cladogram, ecosystem populations, fleet outcomes. */
export const demoView: View = {
  id: 'demo',
  title: 'Demo',
  usesFrame: true,
  mount(container, app) {
    let populations: Populations | null = null;
    const evo = el('section', { class: 'panel', 'data-testid': 'panel-evolution', hidden: true });
    const eco = el('section', { class: 'panel', 'data-testid': 'panel-ecosystem', hidden: true });
    const fleet = el('section', { class: 'panel', 'data-testid': 'panel-fleet', hidden: true });
    const none = el('p', { class: 'muted' }, 'Looking for demo views…');
    mount(container, none, evo, eco, fleet);
    // The cladogram as it stood at the timeline's frame (drawn by the server from cladogram.json).
    const cladogram = el('img', { alt: 'cladogram', 'data-testid': 'cladogram' }) as HTMLImageElement;
    const drawCladogram = (): void => {
      if (evo.hidden) return;
      const src = `/api/cladogram.svg?frame=${app.frame}`;
      if (cladogram.getAttribute('src') !== src) {
        cladogram.setAttribute('src', src);
        cladogram.dataset.frame = String(app.frame);
      }
    };
    const drawEco = (): void => {
      if (!populations) return;
      const p = populations;
      mount(eco, el('h2', {}, 'Ecosystem: population per region'),
        el('div', { class: 'legend' }, ...p.species.map((s, k) => el('span', { class: 'chip', style: `border-color:${COLOURS[k % COLOURS.length]};color:${COLOURS[k % COLOURS.length]}` }, s))),
        el('div', { class: 'plots' }, ...p.regions.map((r) => regionPlot(r, p, app.frame))));
    };
    void Promise.all([
      api<{ files: string[] }>('views/'),
      // Asked only of a store with a register stream: a 404 would show as an error in the console.
      hasRegister().then((yes) => (yes ? api<{ dispatches: Dispatch[] }>('dispatches') : null)),
      api<{ merges: Array<{ cells: Record<string, { all: string[] }> }> }>('lanes', { limit: 1000 }).catch(() => ({ merges: [] })),
    ]).then(async ([{ files }, dispatches, lanes]) => {
      const found: string[] = [];
      if (files.includes('evolution/cladogram.svg')) {
        found.push('evolution');
        evo.hidden = false;
        mount(evo, el('h2', {}, 'Evolution: cladogram from the event stream'),
          el('p', {}, ...['cladogram.json', 'cladogram.nwk', 'cladogram.svg'].filter((f) => files.includes(`evolution/${f}`)).flatMap((f) => [el('a', { href: `/api/views/evolution/${f}`, target: '_blank' }, f), ' '])),
          el('div', { class: 'cladogram' }, cladogram));
        drawCladogram();
      }
      if (files.includes('ecosystem/populations.json')) {
        found.push('ecosystem');
        eco.hidden = false;
        populations = await api<Populations>('views/ecosystem/populations.json');
        drawEco();
      }
      if (dispatches && dispatches.dispatches.length) {
        found.push('fleet');
        fleet.hidden = false;
        const byAgent = new Map<string, { receipts: Record<string, number>; lives: number; crashes: number }>();
        for (const d of dispatches.dispatches) {
          const a = byAgent.get(d.agent) ?? { receipts: {}, lives: 0, crashes: 0 };
          a.lives++;
          if (d.end === 'crash') a.crashes++;
          for (const f of d.frames) for (const [k, n] of Object.entries(f.receipts)) a.receipts[k] = (a.receipts[k] ?? 0) + n;
          byAgent.set(d.agent, a);
        }
        // How each agent's deltas fared in the merges (the last 1,000): late, fallback, missing at close.
        const merged = new Map<string, Record<string, number>>();
        for (const m of lanes.merges) for (const [w, c] of Object.entries(m.cells)) {
          const t = merged.get(w) ?? {};
          for (const st of c.all) t[st] = (t[st] ?? 0) + 1;
          merged.set(w, t);
        }
        const MERGE = ['late', 'fallback', 'missing'];
        const statuses = [...new Set([...byAgent.values()].flatMap((a) => Object.keys(a.receipts)))].sort((a, b) => (a === 'ok' ? -1 : b === 'ok' ? 1 : a < b ? -1 : 1));
        const most = Math.max(1, ...[...byAgent.values()].map((a) => Object.values(a.receipts).reduce((x, y) => x + y, 0)));
        mount(fleet, el('h2', {}, 'Fleet: outcomes per worker'), el('p', { class: 'muted' }, 'Receipts by status (receipts stream), deltas late, fallback or missing at close (merge journal), lives and SIGKILL crashes (register).'),
          el('div', { class: 'legend' }, ...statuses.map((s) => el('span', { class: `chip outcome-${s}` }, s)), el('span', { class: 'chip' }, '✕ crash (SIGKILL)')),
          el('table', { class: 'outcomes', 'data-testid': 'fleet-outcomes' },
            el('thead', {}, el('tr', {}, el('th', {}, 'agent'), ...statuses.map((s) => el('th', {}, s)), ...MERGE.map((s) => el('th', { title: `deltas ${s} in the merge journal` }, s)), el('th', {}, 'lives'), el('th', {}, 'crashes'), el('th', { class: 'bar-col' }, 'receipts'))),
            el('tbody', {}, ...[...byAgent].sort(([a], [b]) => (a < b ? -1 : 1)).map(([agent, a]) => el('tr', { 'data-agent': agent },
              el('td', {}, agent), ...statuses.map((s) => el('td', { class: 'num' }, String(a.receipts[s] ?? 0))), ...MERGE.map((s) => el('td', { class: 'num' }, String(merged.get(agent)?.[s] ?? 0))), el('td', { class: 'num' }, String(a.lives)), el('td', { class: 'num' }, a.crashes ? `✕ ${a.crashes}` : '0'),
              el('td', { class: 'bar-col' }, el('div', { class: 'bar' }, ...statuses.map((s) => el('span', { class: `outcome-${s}`, style: `width:${((a.receipts[s] ?? 0) / most) * 100}%`, title: `${a.receipts[s] ?? 0} ${s}` })))))))));
      }
      mount(none, found.length ? `Demo views in this store: ${found.join(', ')}.` : 'No demo views in this store (run framelog demo evolution, ecosystem or fleet).');
    });
    return {
      frameChanged: () => {
        drawEco();
        drawCladogram();
      },
    };
  },
};
