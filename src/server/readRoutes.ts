import fs from 'node:fs';
import path from 'node:path';
import { canonicalJson } from '../delta/canonicalJson.js';
import type { JsonValue } from '../delta/types.js';
import { toState } from '../merge/canonicalState.js';
import { diffStates } from '../merge/diffStates.js';
import { listInbox } from '../store/inbox/inbox.js';
import { openJournalIndex } from '../store/history/journalIndex.js';
import { queryConflicts, queryEvents, type ConflictFilter } from '../store/history/journalQueries.js';
import { loadStateAt } from '../store/history/stateAt.js';
import { ApiError } from './ApiError.js';
import { frameParam, frameRange, limitParam, one, textParam, wholeNumber, writerParam, type Query } from './queryParams.js';
import type { QueryDoc, Route } from './Route.js';

const PAGE: QueryDoc[] = [
  { name: 'cursor', description: 'index of the first result to return (the `next` of the previous page; default 0)', integer: true },
  { name: 'limit', description: 'results per page, 1–1000 (default 100)', integer: true },
];
const FRAME: QueryDoc = { name: 'frame', description: 'a merge frame `N`, or an inclusive range `A..B` (either end may be left open)' };

/** One page of an in-memory result list: `next` is the cursor of the following page, or null at the end. */
function page<T>(all: T[], q: Query): { records: T[]; cursor: number; next: number | null; total: number } {
  const cursor = wholeNumber(one(q, 'cursor') ?? '0', 'cursor', 'bad-cursor');
  const limit = limitParam(q);
  if (cursor > all.length) throw new ApiError(409, 'bad-cursor', `cursor ${cursor} is past the end (${all.length} results)`);
  const records = all.slice(cursor, cursor + limit);
  const next = cursor + records.length;
  return { records, cursor, next: next < all.length ? next : null, total: all.length };
}

const pendingFrame = (name: string): number | undefined => {
  const m = /^frame-(\d+)\./.exec(name);
  return m ? Number(m[1]) : undefined;
};

/** Read routes over the core store: merges, state, diff, conflicts, events, health. */
export const readRoutes: Route[] = [
  {
    method: 'GET',
    url: '/api/merges',
    summary: 'Merge records, oldest first, one page at a time (binary search over the journal index: no full read)',
    access: 'read',
    query: [
      { name: 'cursor', description: 'index of the first record (0-based; the `next` of the previous page; default 0)', integer: true },
      { name: 'limit', description: 'records per page, 1–1000 (default 100)', integer: true },
      FRAME,
    ],
    responses: { 200: '{records, cursor, next (null at the end), count}', 409: 'cursor past the last record' },
    handle(req, _reply, server) {
      const q = req.query;
      const idx = openJournalIndex(server.store());
      try {
        const range = frameRange(one(q, 'frame'), 'frame');
        const from = typeof range === 'number' ? range : range?.from;
        const to = typeof range === 'number' ? range : range?.to;
        let start = wholeNumber(one(q, 'cursor') ?? '0', 'cursor', 'bad-cursor');
        if (start > idx.count) throw new ApiError(409, 'bad-cursor', `cursor ${start} is past the end (${idx.count} merge records)`);
        if (from !== undefined) start = Math.max(start, idx.lastAtOrBelow(from - 1) + 1);
        let stop = Math.min(idx.count - 1, start + limitParam(q) - 1);
        if (to !== undefined) stop = Math.min(stop, idx.lastAtOrBelow(to));
        const records = idx.read(start, stop).map((l) => l.value);
        const end = start + records.length;
        const more = end < idx.count && (to === undefined || idx.frameAt(end) <= to);
        return { records, cursor: start, next: more ? end : null, count: idx.count };
      } finally {
        idx.close();
      }
    },
  },
  {
    method: 'GET',
    url: '/api/state',
    summary: 'Canonical state after frame `at` (default: the latest merge), byte for byte as `framelog state` prints it',
    access: 'read',
    query: [{ name: 'at', description: 'the frame (state after the last merge at or below it)', integer: true }],
    responses: { 200: 'canonical state JSON {items, counters, entities}; header framelog-frame: the merge it reflects (absent before the first)' },
    handle(req, reply, server) {
      const ctx = server.store();
      const atText = one(req.query, 'at');
      const at = atText === undefined ? undefined : frameParam(atText, 'at');
      const idx = openJournalIndex(ctx);
      try {
        const i = at === undefined ? idx.count - 1 : idx.lastAtOrBelow(at);
        if (i >= 0) reply.header('framelog-frame', String(idx.frameAt(i)));
        const state = toState(loadStateAt(ctx, at, undefined, idx)) as unknown as JsonValue;
        reply.type('application/json');
        return canonicalJson(state);
      } finally {
        idx.close();
      }
    },
  },
  {
    method: 'GET',
    url: '/api/diff',
    summary: 'What changed between frame `from` and frame `to`: fields (old, new, by whom), items added, counters',
    access: 'read',
    query: [
      { name: 'from', description: 'first frame (required)', integer: true },
      { name: 'to', description: 'second frame (required)', integer: true },
    ],
    responses: { 200: 'the diff, as `framelog diff --json` prints it' },
    handle(req, _reply, server) {
      const a = one(req.query, 'from'), b = one(req.query, 'to');
      if (a === undefined || b === undefined) throw new ApiError(400, 'bad-frame', 'diff needs both from and to, like /api/diff?from=11&to=12');
      const fa = frameParam(a, 'from'), fb = frameParam(b, 'to');
      const ctx = server.store();
      return diffStates(loadStateAt(ctx, fa), loadStateAt(ctx, fb), fa, fb);
    },
  },
  {
    method: 'GET',
    url: '/api/conflicts',
    summary: 'Conflict records (every loser of a field, item or delta identity), filtered, in journal order',
    access: 'read',
    query: [
      FRAME,
      { name: 'kind', description: 'field, item or delta' },
      { name: 'type', description: 'entity type (field conflicts)' },
      { name: 'id', description: 'entity id (field conflicts)' },
      { name: 'field', description: 'field name (field conflicts)' },
      { name: 'collection', description: 'item collection (item conflicts)' },
      { name: 'writer', description: 'a writer among winner and losers (or the delta\'s writer)' },
      { name: 'open', description: 'true: only conflicts no resolution closed yet; false: only resolved ones (each with resolvedBy)' },
      ...PAGE,
    ],
    responses: { 200: '{records (each with its id, conflict, and resolvedBy once resolved), cursor, next (null at the end), total}', 409: 'cursor past the end' },
    handle(req, _reply, server) {
      const q = req.query;
      const kind = one(q, 'kind');
      const open = one(q, 'open');
      if (open !== undefined && open !== 'true' && open !== 'false') throw new ApiError(400, 'bad-parameter', `open: must be true or false (got ${JSON.stringify(open.slice(0, 40))})`);
      if (kind !== undefined && !['field', 'item', 'delta'].includes(kind)) throw new ApiError(400, 'bad-parameter', `kind: must be field, item or delta (got ${JSON.stringify(kind.slice(0, 40))})`);
      const filter: ConflictFilter = {
        frame: frameRange(one(q, 'frame'), 'frame'),
        kind: kind as ConflictFilter['kind'],
        type: textParam(q, 'type'),
        id: textParam(q, 'id'),
        field: textParam(q, 'field'),
        collection: textParam(q, 'collection'),
        writer: writerParam(one(q, 'writer')),
        ...(open !== undefined ? { open: open === 'true' } : {}),
      };
      return page(queryConflicts(server.store(), filter), q);
    },
  },
  {
    method: 'GET',
    url: '/api/events',
    summary: 'The event log ({merge, frame, writer, seq, utc, event}), filtered, in journal order',
    access: 'read',
    query: [
      { name: 'type', description: "the event's own type (e.g. migration)" },
      FRAME,
      { name: 'writer', description: 'who emitted it' },
      ...PAGE,
    ],
    responses: { 200: '{records, cursor, next (null at the end), total}', 409: 'cursor past the end' },
    handle(req, _reply, server) {
      const q = req.query;
      return page(queryEvents(server.store(), { type: textParam(q, 'type'), frame: frameRange(one(q, 'frame'), 'frame'), writer: writerParam(one(q, 'writer')) }), q);
    },
  },
  {
    method: 'GET',
    url: '/api/health',
    summary: 'Store health: pending deltas, the last merge, how far merging lags, live connections',
    access: 'read',
    responses: { 200: '{ok, pending: {deltas, minFrame, maxFrame}, lastMerge: {index, frame, utc} | null, lag: {framesBehind, sinceLastMergeMs, oldestPendingMs}, sse}' },
    handle(_req, _reply, server) {
      const ctx = server.store();
      const now = Date.now();
      const names = listInbox(ctx.layout);
      const frames = names.map(pendingFrame).filter((f): f is number => f !== undefined);
      let oldest: number | null = null;
      for (const n of names) {
        const st = fs.statSync(path.join(ctx.layout.inbox, n), { throwIfNoEntry: false });
        if (st && (oldest === null || st.mtimeMs < oldest)) oldest = st.mtimeMs;
      }
      const idx = openJournalIndex(ctx);
      let last: { index: number; frame: number; utc: string } | null = null;
      try {
        if (idx.count > 0) {
          const r = idx.read(idx.count - 1, idx.count - 1)[0].value;
          last = { index: idx.count - 1, frame: r.frame, utc: r.utc };
        }
      } finally {
        idx.close();
      }
      const maxFrame = frames.length ? Math.max(...frames) : null;
      return {
        ok: true,
        pending: { deltas: names.length, minFrame: frames.length ? Math.min(...frames) : null, maxFrame },
        lastMerge: last,
        lag: {
          framesBehind: maxFrame === null ? 0 : Math.max(0, maxFrame - (last?.frame ?? -1)),
          sinceLastMergeMs: last ? Math.max(0, now - Date.parse(last.utc)) : null,
          oldestPendingMs: oldest === null ? 0 : Math.max(0, Math.round(now - oldest)),
        },
        sse: server.sse.stats(),
      };
    },
  },
];
