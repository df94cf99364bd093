import { ApiFailure, api, isAbort } from '../api.js';
import type { View } from '../app.js';
import { el, json, mount } from '../dom.js';
import { virtualList } from '../virtualList.js';

interface StreamInfo { name: string; records: number; bytes: number; lastTs: string | null }
interface Segments { segments: Array<{ file: string; first: number; end: number; count: number; firstTs: string | null; lastTs: string | null; evicted?: string }>; live: { base: number } }
interface RecordsPage { records: Array<{ cursor: number; next: number; record: Record<string, unknown> }>; cursor: number; next: number }

/** A stream browser: pick a stream, filter by type, jump to a cursor or a time, see its compaction segments, follow it live (SSE). */
export const streamsView: View = {
  id: 'streams',
  title: 'Streams',
  usesFrame: false,
  mount(container, app) {
    const pick = el('select', { 'data-testid': 'stream-pick' }) as HTMLSelectElement;
    const types = el('input', { type: 'text', placeholder: 'type, type…', size: 14, 'data-testid': 'stream-types' }) as HTMLInputElement;
    const text = el('input', { type: 'search', placeholder: 'contains…', size: 14, 'data-testid': 'stream-text' }) as HTMLInputElement;
    const follow = el('input', { type: 'checkbox', 'data-testid': 'stream-follow' }) as HTMLInputElement;
    const total = el('span', { class: 'summary', 'data-testid': 'stream-total' });
    const jump = el('input', { type: 'text', placeholder: 'cursor or 2026-12-07T10:00:00Z', size: 24, 'data-testid': 'stream-jump', title: 'start at a cursor, or at the first record at or after a time' }) as HTMLInputElement;
    const segmentsBar = el('div', { class: 'segments', 'data-testid': 'stream-segments' });
    jump.value = app.param('at') ?? '';
    /** Where reading starts: a cursor, or the first record at or after a time (asked once, then cursors). */
    let since: string | null = null;
    let records: Array<{ cursor: number; record: Record<string, unknown> }> = [];
    let next = 0;
    let atEnd = false;
    let fetching = false;
    let generation = 0;
    let controller = new AbortController();
    let source: EventSource | null = null;
    types.value = app.param('type') ?? '';
    text.value = app.param('q') ?? '';
    follow.checked = app.param('follow') === '1';

    const wantTypes = (): string[] => types.value.split(',').map((t) => t.trim()).filter(Boolean);
    const matches = (r: Record<string, unknown>): boolean => {
      const t = wantTypes();
      if (t.length && !t.includes(String(r.type))) return false;
      return !text.value || JSON.stringify(r).includes(text.value);
    };
    const list = virtualList({
      rowHeight: 24,
      testid: 'stream-rows',
      className: 'table',
      row(i) {
        const r = records[i];
        if (!r) return null;
        const { ts, type, ...rest } = r.record;
        return el('div', { class: 'row', 'data-cursor': r.cursor },
          el('span', { class: 'c-cursor muted' }, String(r.cursor)), el('span', { class: 'c-ts' }, typeof ts === 'string' ? ts.replace('T', ' ').replace('Z', '') : ''),
          el('span', { class: 'c-type' }, String(type ?? '')), el('code', { class: 'c-record', title: json(rest) }, json(rest)));
      },
      need: () => void more(),
    });
    const show = (): void => {
      list.setCount(records.length + (atEnd ? 0 : 1));
      total.textContent = `${records.length.toLocaleString('en')} record${records.length === 1 ? '' : 's'}${atEnd ? '' : '+'}${wantTypes().length || text.value ? ' matching' : ''}${source ? ' · following' : ''}`;
    };
    const more = async (): Promise<void> => {
      if (fetching || atEnd || !pick.value) return;
      fetching = true;
      const g = generation;
      try {
        const q = new URLSearchParams(since !== null ? { since, limit: '1000' } : { cursor: String(next), limit: '1000' });
        since = null;
        for (const t of wantTypes()) q.append('type', t);
        const res = await fetch(`/api/streams/${encodeURIComponent(pick.value)}/records?${q}`, { signal: controller.signal, credentials: 'same-origin' });
        if (!res.ok) throw new ApiFailure(res.status, 'http', ((await res.json()) as { message: string }).message);
        const page = (await res.json()) as RecordsPage;
        if (g !== generation) return;
        for (const r of page.records) if (matches(r.record)) records.push({ cursor: r.cursor, record: r.record });
        atEnd = page.records.length < 1000;
        next = page.next;
        show();
        if (atEnd) startFollowing(g);
      } catch (e) {
        if (!isAbort(e)) total.textContent = (e as Error).message;
      } finally {
        fetching = false;
      }
    };
    const startFollowing = (g: number): void => {
      if (!follow.checked || source || g !== generation) return;
      source = new EventSource(`/api/streams/${encodeURIComponent(pick.value)}/events?cursor=${next}`, { withCredentials: true });
      source.addEventListener('record', (e) => {
        const ev = e as MessageEvent<string>;
        const cursor = next;
        next = Number(ev.lastEventId);
        const record = JSON.parse(ev.data) as Record<string, unknown>;
        if (!matches(record)) return;
        const stick = list.element.scrollTop + list.element.clientHeight >= list.element.scrollHeight - 30;
        records.push({ cursor, record });
        show();
        if (stick) list.scrollToIndex(records.length);
      });
      source.addEventListener('reset', () => void restart());
      show();
    };
    const restart = async (): Promise<void> => {
      source?.close();
      source = null;
      controller.abort();
      controller = new AbortController();
      generation++;
      records = [];
      const start = jump.value.trim();
      next = /^\d+$/.test(start) ? Number(start) : 0;
      since = start && !/^\d+$/.test(start) ? start : null;
      atEnd = false;
      fetching = false;
      app.setParams({ stream: pick.value || null, type: types.value.trim() || null, q: text.value || null, follow: follow.checked ? '1' : null, at: start || null });
      void showSegments(generation);
      list.setCount(0, { top: true });
      await more();
    };
    const showSegments = async (g: number): Promise<void> => {
      if (!pick.value) return;
      try {
        const seg = await api<Segments>(`streams/${encodeURIComponent(pick.value)}/segments`, {}, { signal: controller.signal });
        if (g !== generation) return;
        const go = (cursor: number): void => {
          jump.value = String(cursor);
          void restart();
        };
        const when = (a: string | null, b: string | null): string => (a && b ? ` · ${a.replace('T', ' ').replace('Z', '')} → ${b.replace('T', ' ').replace('Z', '')}` : '');
        mount(segmentsBar, ...(seg.segments.length === 0 ? [] : [
          el('span', { class: 'muted' }, 'compacted: '),
          ...seg.segments.map((x, k) => el('button', {
            class: `segment${x.evicted ? ' evicted' : ''}`, 'data-testid': 'stream-segment', 'data-first': x.first, title: x.file,
            onclick: () => go(x.first), disabled: Boolean(x.evicted),
          }, `#${k + 1}: ${x.count} records, cursors ${x.first}–${x.end}${when(x.firstTs, x.lastTs)}${x.evicted ? ' (evicted)' : ''}`)),
          el('button', { class: 'segment live', 'data-testid': 'stream-live', 'data-first': seg.live.base, onclick: () => go(seg.live.base) }, `live file from cursor ${seg.live.base}`),
        ]));
      } catch (e) {
        if (!isAbort(e)) mount(segmentsBar, el('span', { class: 'error' }, `segments: ${(e as Error).message}`));
      }
    };
    pick.addEventListener('change', () => {
      jump.value = '';
      void restart();
    });
    jump.addEventListener('change', () => void restart());
    types.addEventListener('change', () => void restart());
    text.addEventListener('change', () => void restart());
    follow.addEventListener('change', () => void restart());
    mount(container,
      el('div', { class: 'toolbar' }, el('label', {}, 'stream ', pick), el('label', {}, 'type ', types), el('label', {}, 'text ', text), el('label', {}, 'from ', jump), el('label', {}, follow, ' follow live'), total),
      segmentsBar,
      el('div', { class: 'row head' }, ...['cursor', 'ts', 'type', 'record'].map((h) => el('span', {}, h))),
      list.element);
    void api<{ streams: StreamInfo[] }>('streams').then(({ streams }) => {
      pick.replaceChildren(...streams.map((s) => el('option', { value: s.name }, `${s.name} (${s.records})`)));
      if (streams.length === 0) {
        total.textContent = 'this store has no streams';
        return;
      }
      const wanted = app.param('stream');
      pick.value = wanted && streams.some((s) => s.name === wanted) ? wanted : streams[0].name;
      void restart();
    });
    return {
      dispose() {
        source?.close();
        controller.abort();
      },
    };
  },
};
