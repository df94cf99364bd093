import './style.css';
import { api, openSession, setUnauthorizedHandler } from './api.js';
import type { App, View, ViewInstance } from './app.js';
import { el, mount } from './dom.js';
import { conflictsView } from './views/conflictsView.js';
import { countersView } from './views/countersView.js';
import { demoView } from './views/demoView.js';
import { diffView } from './views/diffView.js';
import { dispatchView } from './views/dispatchView.js';
import { eventsView } from './views/eventsView.js';
import { lanesView } from './views/lanesView.js';
import { stateView } from './views/stateView.js';
import { streamsView } from './views/streamsView.js';
import { timeline, type Timeline } from './timeline.js';

const VIEWS: View[] = [stateView, diffView, countersView, lanesView, conflictsView, eventsView, streamsView, dispatchView, demoView];

interface Health { lastMerge: { index: number; frame: number } | null }
interface MergesPage { records: Array<{ frame: number }>; count: number }

const root = document.getElementById('app') as HTMLElement;
const tabs = el('nav', { class: 'tabs' });
const status = el('span', { class: 'status', 'data-testid': 'status' });
const header = el('header', {}, el('h1', {}, 'framelog'), tabs, status);
const timelineSlot = el('div', { class: 'timeline-slot' });
const main = el('main', { 'data-testid': 'view' });
mount(root, header, timelineSlot, main);

let viewId = new URLSearchParams(location.search).get('view') ?? 'state';
let instance: ViewInstance | null = null;
let tl: Timeline;

const info = { first: null as number | null, last: null as number | null, count: 0 };

function urlFor(view: string, values: Record<string, string | number | null | undefined>, keep: URLSearchParams | null): string {
  const p = keep ? new URLSearchParams(keep) : new URLSearchParams();
  p.set('view', view);
  for (const [k, v] of Object.entries(values)) {
    if (v === null || v === undefined || v === '') p.delete(k);
    else p.set(k, String(v));
  }
  return `${location.pathname}?${p}`;
}

const app: App = {
  get first() {
    return info.first;
  },
  get last() {
    return info.last;
  },
  get count() {
    return info.count;
  },
  get frame() {
    return tl.frame;
  },
  setFrame(f) {
    tl.set(f);
  },
  param: (k) => new URLSearchParams(location.search).get(k),
  setParams(values) {
    history.replaceState(null, '', urlFor(viewId, values, new URLSearchParams(location.search)));
  },
  go(view, values = {}) {
    const keep = new URLSearchParams();
    const frame = new URLSearchParams(location.search).get('frame');
    if (frame) keep.set('frame', frame);
    history.pushState(null, '', urlFor(view, values, keep));
    show(view);
  },
};

function show(id: string): void {
  const view = VIEWS.find((v) => v.id === id) ?? VIEWS[0];
  viewId = view.id;
  instance?.dispose?.();
  for (const b of tabs.querySelectorAll('button')) b.classList.toggle('active', b.dataset.view === view.id);
  timelineSlot.hidden = !view.usesFrame;
  document.title = `${view.title} · framelog`;
  const container = el('section', { class: `view view-${view.id}`, 'data-testid': `view-${view.id}` });
  mount(main, container);
  instance = view.mount(container, app);
}

for (const v of VIEWS) {
  tabs.append(el('button', { 'data-view': v.id, 'data-testid': `tab-${v.id}`, onclick: () => app.go(v.id) }, v.title));
}

window.addEventListener('popstate', () => {
  const p = new URLSearchParams(location.search);
  const f = p.get('frame');
  if (f !== null && Number(f) !== tl.frame) tl.set(Number(f), { silentUrl: true });
  show(p.get('view') ?? 'state');
});

setUnauthorizedHandler(async () => {
  const token = window.prompt('This server needs a token to read (framelog token --dir <store> prints it):');
  return token ? openSession(token.trim()) : false;
});

async function refreshRange(): Promise<void> {
  const [health, firstPage] = await Promise.all([api<Health>('health'), api<MergesPage>('merges', { limit: 1 })]);
  info.count = firstPage.count;
  info.first = firstPage.records[0]?.frame ?? null;
  info.last = health.lastMerge?.frame ?? null;
  status.textContent = info.last === null ? 'no merges yet' : `${info.count.toLocaleString('en')} merges · frames ${info.first}…${info.last}`;
}

async function start(): Promise<void> {
  await refreshRange();
  const p = new URLSearchParams(location.search);
  const f = p.get('frame');
  tl = timeline({
    app,
    initial: f !== null && /^\d+$/.test(f) ? Number(f) : info.last ?? 0,
    onFrame(frame, o) {
      if (!o.silentUrl) history.replaceState(null, '', urlFor(viewId, { frame }, new URLSearchParams(location.search)));
      instance?.frameChanged?.(frame);
    },
    async onMerge() {
      await refreshRange();
      instance?.mergesChanged?.();
    },
  });
  mount(timelineSlot, tl.element);
  show(viewId);
}

start().catch((e: unknown) => mount(main, el('p', { class: 'error' }, `Could not reach the store: ${(e as Error).message}`)));
