import { apiPost, ApiFailure } from '../api.js';
import { el, json } from '../dom.js';

/** One side of a conflict (winner or loser), as the API sends it. */
export interface Side { value: unknown; frame: number; utc: string; writer: string; seq: number }
/** A conflict as `/api/conflicts` sends it: the journal record, its id, and the resolution that closed it. */
export type Conflict = ({
  merge: number; kind: 'field'; type: string; id: string; field: string; policy?: unknown; base?: unknown; winner: Side; losers: Side[];
} | {
  merge: number; kind: 'item'; collection: string; key: string; winner: Side; losers: Side[];
} | {
  merge: number; kind: 'delta'; frame: number; writer: string; seq: number; kept: string; other: string; file: string;
}) & { conflict: string; resolvedBy?: { merge: number; frame: number; writer: string; seq: number } };

const AS_KEY = 'framelog.as';

/**
 * The form that resolves one conflict from the viewer: pick a side (a writer's value), type a
 * value, or keep the merge's winner; it POSTs `/api/resolve` with the store token. `done` gets the
 * line to show once the resolution delta is in the inbox.
 */
export function resolveForm(c: Conflict, done: (message: string) => void, cancel: () => void): HTMLFormElement {
  const sides = c.kind === 'delta' ? [] : [c.winner, ...c.losers];
  const how = el('select', { 'data-testid': 'resolve-how' },
    ...(c.kind === 'delta' ? [] : sides.map((s, i) => el('option', { value: `side:${i}` }, `${s.writer}: ${json(s.value).slice(0, 60)}`))),
    ...(c.kind === 'delta' ? [] : [el('option', { value: 'value' }, 'type a value…')]),
    el('option', { value: 'keep' }, 'keep the merge\'s winner (write nothing)'));
  const value = el('input', { type: 'text', size: 30, placeholder: c.kind === 'item' ? '{"id": …}' : 'JSON, e.g. "idle" or 3', 'data-testid': 'resolve-value', hidden: true });
  const as = el('input', { type: 'text', size: 14, value: localStorage.getItem(AS_KEY) ?? 'human.web', 'data-testid': 'resolve-as', title: 'the resolution\'s writer' });
  const status = el('span', { class: 'summary', 'data-testid': 'resolve-status' });
  how.addEventListener('change', () => {
    value.hidden = how.value !== 'value';
  });
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const body: Record<string, unknown> = { ids: [c.conflict], as: as.value.trim() };
    if (how.value === 'keep') body.keep = true;
    else if (how.value === 'value') {
      try {
        body.value = JSON.parse(value.value);
      } catch {
        status.textContent = 'not JSON (a string needs its quotes: "idle")';
        return;
      }
    } else body.winner = sides[Number(how.value.slice(5))].writer;
    status.textContent = '…';
    try {
      await apiPost('resolve', body);
      localStorage.setItem(AS_KEY, as.value.trim());
      done(`${c.conflict}: resolution put as ${as.value.trim()}; the next merge applies it`);
    } catch (err) {
      status.textContent = err instanceof ApiFailure ? err.message : String(err);
    }
  };
  return el('form', { class: 'toolbar resolve-form', 'data-testid': 'resolve-form', onsubmit: (e: Event) => void submit(e) },
    el('strong', {}, `resolve ${c.conflict}`), how, value, el('label', {}, 'as ', as),
    el('button', { type: 'submit', 'data-testid': 'resolve-submit' }, 'Resolve'),
    el('button', { type: 'button', onclick: cancel }, 'Cancel'), status);
}
