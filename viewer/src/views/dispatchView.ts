import { api, hasRegister } from '../api.js';
import type { View } from '../app.js';
import { el, mount } from '../dom.js';

type Phase = 'working' | 'degraded' | 'idle' | 'crashed';
interface Dispatch { id: string; agent: string; pid: number | null; start: string; from: number; startTs: string | null; end: string | null; to: number; endTs: string | null; frames: Array<{ frame: number; phase: Phase; receipts: Record<string, number> }> }
interface Timeline { dispatches: Dispatch[]; first: number | null; last: number | null }

const PHASES: Phase[] = ['working', 'degraded', 'idle', 'crashed'];

/** Where dispatch `d` is at frame `f`. */
function phaseAt(d: Dispatch, f: number): { phase: string; receipts: Record<string, number> } {
  if (f < d.from) return { phase: 'not started', receipts: {} };
  const x = d.frames.find((y) => y.frame === f);
  if (x) return x;
  return { phase: d.end === 'stop' ? 'stopped' : d.end === 'crash' ? 'gone' : 'running', receipts: {} };
}

/** The per-dispatch replay: one row per agent life (register), phase-coloured per frame (receipts), scrubbed by the timeline. */
export const dispatchView: View = {
  id: 'dispatches',
  title: 'Dispatches',
  usesFrame: true,
  mount(container, app) {
    let data: Timeline = { dispatches: [], first: null, last: null };
    let registered = false;
    const lanes = el('div', { class: 'dispatches', 'data-testid': 'dispatch-lanes' });
    const now = el('div', { class: 'dispatch-now', 'data-testid': 'dispatch-now' });
    const caption = el('span', { class: 'summary' });
    const legend = el('div', { class: 'legend' }, ...PHASES.map((p) => el('span', { class: `chip phase-${p}` }, p)), el('span', { class: 'chip' }, '▶ start  ↻ restart  ✕ crash  ■ stop'));
    const render = (): void => {
      const f = app.frame;
      const first = data.first ?? 0, last = data.last ?? 0;
      const span = Math.max(1, last - first + 1);
      const pct = (x: number): string => `${((x - first) / span) * 100}%`;
      lanes.replaceChildren(
        el('div', { class: 'dispatch-axis' }, el('span', { class: 'name' }, 'agent · life'), el('div', { class: 'track' },
          ...Array.from({ length: Math.min(span, 11) }, (_, k) => first + Math.round((k * (span - 1)) / Math.max(1, Math.min(span, 11) - 1))).map((x) => el('span', { class: 'tick', style: `left:${pct(x + 0.5)}` }, String(x))),
          el('div', { class: 'cursor', style: `left:${pct(f)};width:${100 / span}%` }))),
        ...data.dispatches.map((d) => el('div', { class: 'dispatch', 'data-testid': 'dispatch', 'data-id': d.id, 'data-agent': d.agent, 'data-from': d.from, 'data-to': d.to, 'data-start': d.start, 'data-end': d.end ?? '', 'data-pid': d.pid ?? '' },
          el('span', { class: 'name', title: `pid ${d.pid ?? '?'}` }, `${d.agent} · ${d.start === 'restart' ? 'restart' : 'start'} @${d.from}`),
          el('div', { class: 'track', onclick: (e: MouseEvent) => {
            const box = (e.currentTarget as HTMLElement).getBoundingClientRect();
            app.setFrame(first + Math.floor(((e.clientX - box.left) / box.width) * span));
          } },
          ...d.frames.map((x) => el('div', { class: `seg phase-${x.phase}${x.frame === f ? ' current' : ''}`, style: `left:${pct(x.frame)};width:${100 / span}%`, title: `frame ${x.frame}: ${x.phase} ${JSON.stringify(x.receipts)}`, 'data-frame': x.frame, 'data-phase': x.phase })),
          el('span', { class: 'mark start', style: `left:${pct(d.from + 0.5)}` }, d.start === 'restart' ? '↻' : '▶'),
          d.end ? el('span', { class: `mark end ${d.end}`, style: `left:${pct(d.to + 0.5)}` }, d.end === 'crash' ? '✕' : '■') : null,
          el('div', { class: 'cursor', style: `left:${pct(f)};width:${100 / span}%` })))));
      mount(now, el('h3', { 'data-testid': 'dispatch-frame', 'data-frame': f }, `At frame ${f}`),
        el('table', {}, el('thead', {}, el('tr', {}, ...['dispatch', 'pid', 'phase', 'receipts'].map((h) => el('th', {}, h)))),
          el('tbody', {}, ...data.dispatches.map((d) => {
            const p = phaseAt(d, f);
            return el('tr', { 'data-id': d.id, class: `now-${p.phase.replace(' ', '-')}` }, el('td', {}, d.id), el('td', {}, String(d.pid ?? '')), el('td', {}, el('span', { class: `swatch phase-${p.phase.replace(' ', '-')}` }), el('span', { class: 'c-phase' }, p.phase)),
              el('td', {}, Object.entries(p.receipts).map(([k, n]) => `${n} ${k}`).join(', ')));
          }))));
    };
    mount(container, el('div', { class: 'toolbar' }, caption, legend), lanes, now);
    const noRegister = 'This store has no register stream (the fleet demo writes one: framelog demo fleet).';
    void hasRegister().then((yes) => {
      if (!yes) throw new Error(noRegister);
      registered = true;
      return api<Timeline>('dispatches');
    }).then((t) => {
      data = t;
      const agents = new Set(t.dispatches.map((d) => d.agent)).size;
      caption.textContent = `${t.dispatches.length} dispatches of ${agents} agents (register), phases from receipts · frames ${t.first ?? '—'}…${t.last ?? '—'}`;
      render();
    }).catch((e: Error) => {
      caption.textContent = e.message.includes('no stream') ? noRegister : e.message;
    });
    return {
      frameChanged: () => render(),
      // A store without a register keeps the caption that says so (and asks nothing more).
      mergesChanged: () => void (registered ? api<Timeline>('dispatches').then((t) => { data = t; render(); }) : undefined),
    };
  },
};
