import type { App } from './app.js';
import { el } from './dom.js';

/** The frame timeline: play/pause, a scrubber over the merged frames, step buttons, live mode. */
export interface Timeline {
  readonly element: HTMLElement;
  readonly frame: number;
  set(frame: number, o?: { silentUrl?: boolean }): void;
}

export function timeline(o: { app: App; initial: number; onFrame(frame: number, o: { silentUrl?: boolean }): void; onMerge(): Promise<void> }): Timeline {
  const { app } = o;
  let frame = o.initial;
  let playing: ReturnType<typeof setInterval> | null = null;
  let source: EventSource | null = null;

  const scrubber = el('input', { type: 'range', class: 'scrubber', 'data-testid': 'scrubber', 'aria-label': 'frame' }) as HTMLInputElement;
  const number = el('input', { type: 'number', class: 'frame-input', 'data-testid': 'frame-input', min: 0, 'aria-label': 'frame number' }) as HTMLInputElement;
  const play = el('button', { 'data-testid': 'play', title: 'play / pause (space)' }, '▶');
  const speed = el('select', { 'data-testid': 'speed', title: 'frames per step' }, ...[1, 10, 100, 1000].map((n) => el('option', { value: n }, `${n}×`))) as HTMLSelectElement;
  const live = el('input', { type: 'checkbox', 'data-testid': 'live' }) as HTMLInputElement;
  const liveLabel = el('label', { class: 'live', title: 'follow new merges as they happen (server-sent events)' }, live, ' live');
  const dot = el('span', { class: 'live-dot', 'data-testid': 'live-dot' });

  const clamp = (f: number): number => {
    if (app.first === null || app.last === null) return Math.max(0, f);
    return Math.min(app.last, Math.max(app.first, Math.round(f)));
  };
  const sync = (): void => {
    scrubber.min = String(app.first ?? 0);
    scrubber.max = String(app.last ?? 0);
    scrubber.value = String(frame);
    number.value = String(frame);
    number.max = String(app.last ?? 0);
  };
  const set = (f: number, opts: { silentUrl?: boolean } = {}): void => {
    const next = clamp(f);
    if (next === frame && String(frame) === number.value) return;
    frame = next;
    sync();
    o.onFrame(frame, opts);
  };
  const step = (n: number): void => set(frame + n);
  const stop = (): void => {
    if (playing) clearInterval(playing);
    playing = null;
    play.textContent = '▶';
  };
  play.addEventListener('click', () => {
    if (playing) return stop();
    if (frame >= (app.last ?? 0)) set(app.first ?? 0);
    play.textContent = '||';
    playing = setInterval(() => {
      if (frame >= (app.last ?? 0)) return stop();
      step(Number(speed.value));
    }, 250);
  });
  scrubber.addEventListener('input', () => set(Number(scrubber.value)));
  number.addEventListener('change', () => set(Number(number.value)));
  live.addEventListener('change', () => {
    source?.close();
    source = null;
    dot.classList.remove('on');
    if (!live.checked) return;
    // From the end: each merge event moves the timeline to the newest frame.
    source = new EventSource('/api/merges/events', { withCredentials: true });
    source.addEventListener('ready', () => dot.classList.add('on'));
    source.addEventListener('merge', () => {
      void o.onMerge().then(() => {
        sync();
        set(app.last ?? frame);
      });
    });
    source.addEventListener('error', () => dot.classList.remove('on'));
  });
  document.addEventListener('keydown', (e) => {
    if ((e.target as HTMLElement).closest('input, select, textarea')) return;
    if (e.key === 'ArrowLeft') step(-1);
    else if (e.key === 'ArrowRight') step(1);
    else if (e.key === ' ') {
      e.preventDefault();
      play.click();
    }
  });

  const element = el('div', { class: 'timeline', 'data-testid': 'timeline' },
    play, speed,
    el('button', { title: 'first frame', onclick: () => set(app.first ?? 0) }, '|◀'),
    el('button', { title: 'previous frame (←)', 'data-testid': 'prev', onclick: () => step(-1) }, '◀'),
    scrubber,
    el('button', { title: 'next frame (→)', 'data-testid': 'next', onclick: () => step(1) }, '▶'),
    el('button', { title: 'latest frame', onclick: () => set(app.last ?? 0) }, '▶|'),
    el('label', { class: 'frame-label' }, 'frame ', number),
    liveLabel, dot,
  );
  frame = clamp(frame);
  sync();
  return {
    element,
    get frame() {
      return frame;
    },
    set,
  };
}
