import { api } from '../api.js';
import type { View } from '../app.js';
import { el, json, mount } from '../dom.js';
import { pagedList, type Page } from '../pagedList.js';

interface EventRecord { merge: number; frame: number; writer: string; seq: number; utc: string; event: Record<string, unknown> }
interface Quarantined { file: string; why: string; merge?: number | null }

/** The event log with a type filter: the migration log is one click. Quarantined deltas below. */
export const eventsView: View = {
  id: 'events',
  title: 'Events',
  usesFrame: false,
  mount(container, app) {
    const type = el('select', { 'data-testid': 'event-type' }, el('option', { value: '' }, 'every type')) as HTMLSelectElement;
    const frame = el('input', { type: 'text', placeholder: 'N or A..B', size: 8, 'data-testid': 'event-frame' }) as HTMLInputElement;
    const writer = el('input', { type: 'text', placeholder: 'writer', size: 10, 'data-testid': 'event-writer' }) as HTMLInputElement;
    const total = el('span', { class: 'summary', 'data-testid': 'events-total' });
    const quick = el('span', { class: 'quick' });
    const quarantine = el('details', { class: 'quarantine', 'data-testid': 'quarantine' });
    const wanted = app.param('type') ?? '';
    type.append(el('option', { value: wanted }, wanted));
    type.value = wanted;
    frame.value = app.param('frame-range') ?? '';
    writer.value = app.param('writer') ?? '';
    const { list, reset } = pagedList<EventRecord>({
      rowHeight: 24,
      pageSize: 500,
      testid: 'event-rows',
      fetch: (cursor, limit, signal) => api<Page<EventRecord>>('events', { type: type.value, frame: frame.value.trim(), writer: writer.value.trim(), cursor, limit }, { signal }),
      row: (e) => el('div', { class: 'row' },
        el('span', { class: 'c-merge' }, String(e.merge)), el('span', { class: 'c-frame' }, String(e.frame)), el('span', { class: 'c-writer' }, e.seq ? `${e.writer}.${e.seq}` : e.writer),
        el('span', { class: 'c-type' }, String(e.event.type ?? '')), el('code', { class: 'c-event', title: json(e.event) }, json(e.event))),
      onTotal: (n) => {
        total.textContent = `${n.toLocaleString('en')} event${n === 1 ? '' : 's'}${type.value ? ` of type ${type.value}` : ''}`;
      },
      onError: (e) => {
        total.textContent = e.message;
      },
    });
    const apply = (): void => {
      app.setParams({ type: type.value || null, 'frame-range': frame.value.trim() || null, writer: writer.value.trim() || null });
      for (const b of quick.querySelectorAll('button')) b.classList.toggle('active', b.dataset.type === type.value);
      total.textContent = '…';
      void reset().then(() => {
        if (list.count === 0) total.textContent = 'no events match';
      });
    };
    const pick = (t: string): void => {
      if (![...type.options].some((o) => o.value === t)) type.append(el('option', { value: t }, t));
      type.value = t;
      apply();
    };
    type.addEventListener('change', apply);
    frame.addEventListener('change', apply);
    writer.addEventListener('change', apply);
    void api<{ types: Array<{ type: string; count: number }> }>('event-types').then(({ types }) => {
      // The migration log is one click where the store has migrations (the ecosystem demo's).
      if (types.some((t) => t.type === 'migration')) quick.prepend(el('button', { 'data-testid': 'migration-log', 'data-type': 'migration', onclick: () => pick('migration') }, 'Migration log'));
      type.replaceChildren(el('option', { value: '' }, 'every type'), ...types.map((t) => el('option', { value: t.type }, `${t.type} (${t.count})`)));
      if (wanted && !types.some((t) => t.type === wanted)) type.append(el('option', { value: wanted }, wanted));
      type.value = wanted;
      for (const t of types.slice(0, 6)) if (t.type !== 'migration') quick.append(el('button', { 'data-type': t.type, onclick: () => pick(t.type) }, t.type));
    });
    void api<{ records: Quarantined[] }>('quarantine').then(({ records }) => {
      mount(quarantine, el('summary', {}, `Quarantine: ${records.length} delta${records.length === 1 ? '' : 's'} set aside`),
        ...records.map((q) => el('div', { class: 'row' }, el('code', {}, q.file), el('span', {}, q.why), el('span', { class: 'muted' }, q.merge == null ? '' : `merge ${q.merge}`))));
    });
    mount(container,
      el('div', { class: 'toolbar' }, el('label', {}, 'type ', type), quick, el('label', {}, 'frame ', frame), el('label', {}, 'writer ', writer), total),
      el('div', { class: 'row head' }, ...['merge', 'frame', 'writer', 'type', 'event'].map((h) => el('span', {}, h))),
      list.element, quarantine);
    apply();
    return {};
  },
};
