import fs from 'node:fs';
import path from 'node:path';
import type { DeltaRef } from '../delta/types.js';
import type { MergeRecord } from '../merge/records.js';
import { readArchive } from '../store/history/archive.js';
import { openJournalIndex } from '../store/history/journalIndex.js';
import { queryEvents } from '../store/history/journalQueries.js';
import { PlanHistory } from '../store/planHistory.js';
import { ApiError } from './ApiError.js';
import { frameParam, frameRange, limitParam, one, writerParam } from './queryParams.js';
import type { Route } from './Route.js';

/** How a writer fared in one merge, most notable first (a cell of the viewer's swimlane). */
export type LaneStatus = 'quarantined' | 'late' | 'fallback' | 'missing' | 'ok';
const RANK: Record<LaneStatus, number> = { quarantined: 0, late: 1, fallback: 2, missing: 3, ok: 4 };

/** One writer in one merge: its status and the deltas behind it. */
export interface LaneCell {
  status: LaneStatus;
  /** Every status it had in this merge (a writer can be on time for frame N and late for N − 1). */
  all: LaneStatus[];
  deltas: Array<{ frame: number; seq: number; sha256?: string; status: LaneStatus }>;
}

/** The writer of a quarantined inbox file, when its name follows the inbox pattern. */
const QUARANTINED_NAME = /^frame-(\d+)\.([A-Za-z0-9._-]+)\.(\d+)\.[0-9a-f]+\.json$/;

/** The swimlane cells of one merge record: writer → cell. */
export function laneCellsOf(r: MergeRecord): Record<string, LaneCell> {
  const cells: Record<string, LaneCell> = {};
  const add = (writer: string, status: LaneStatus, d?: { frame: number; seq: number; sha256?: string }): void => {
    const c = (cells[writer] ??= { status, all: [], deltas: [] });
    if (!c.all.includes(status)) c.all.push(status);
    if (RANK[status] < RANK[c.status]) c.status = status;
    if (d) c.deltas.push({ ...d, status });
  };
  const lateKeys = new Set(r.late.map((d) => `${d.frame}/${d.writer}/${d.seq}`));
  for (const d of r.applied as DeltaRef[]) add(d.writer, lateKeys.has(`${d.frame}/${d.writer}/${d.seq}`) ? 'late' : 'ok', d);
  for (const w of r.fallback) add(w, 'fallback', { frame: r.frame, seq: 0 });
  for (const w of r.missing) add(w, 'missing');
  for (const q of r.quarantined) {
    const m = QUARANTINED_NAME.exec(q.file);
    add(m ? m[2] : '(unnamed)', 'quarantined', m ? { frame: Number(m[1]), seq: Number(m[3]) } : undefined);
  }
  return cells;
}

const VIEW_TYPES: Record<string, string> = {
  '.json': 'application/json', '.ndjson': 'application/x-ndjson', '.csv': 'text/csv; charset=utf-8',
  '.nwk': 'text/plain; charset=utf-8', '.txt': 'text/plain; charset=utf-8', '.svg': 'image/svg+xml',
};

/** Read routes the viewer needs beyond the core ones: the plan, swimlanes, archived deltas, quarantine, event types, derived views. */
export const inspectRoutes: Route[] = [
  {
    method: 'GET',
    url: '/api/plan',
    summary: 'The plan in force (framelog.json, with defaults filled in)',
    access: 'read',
    responses: { 200: 'the plan' },
    handle(_req, _reply, server) {
      return server.store().plan;
    },
  },
  {
    method: 'GET',
    url: '/api/lanes',
    summary: 'One swimlane cell per writer per merge: ok, late, fallback, missing or quarantined, with the deltas behind it',
    access: 'read',
    query: [
      { name: 'frame', description: 'merge frames `A..B` (either end may be left open; default: the last `limit` merges)' },
      { name: 'limit', description: 'merges, 1–1000 (default 100)', integer: true },
    ],
    responses: { 200: '{writers (expected ones first), merges: [{index, frame, cells: {writer: {status, all, deltas}}}], count}' },
    handle(req, _reply, server) {
      const ctx = server.store();
      const limit = limitParam(req.query);
      const range = frameRange(one(req.query, 'frame'), 'frame');
      const from = typeof range === 'number' ? range : range?.from;
      const to = typeof range === 'number' ? range : range?.to;
      const idx = openJournalIndex(ctx);
      try {
        const stop = to === undefined ? idx.count - 1 : idx.lastAtOrBelow(to);
        let start = from === undefined ? stop - limit + 1 : idx.lastAtOrBelow(from - 1) + 1;
        start = Math.max(0, start, stop - limit + 1);
        const records = stop >= start ? idx.read(start, stop) : [];
        const writers = new Set(ctx.plan.writers ?? []);
        const merges = records.map((l, i) => {
          const cells = laneCellsOf(l.value);
          for (const w of Object.keys(cells)) writers.add(w);
          return { index: start + i, frame: l.value.frame, cells };
        });
        const expected = ctx.plan.writers ?? [];
        const others = [...writers].filter((w) => !expected.includes(w)).sort();
        return { writers: [...expected, ...others], merges, count: idx.count };
      } finally {
        idx.close();
      }
    },
  },
  {
    method: 'GET',
    url: '/api/archive',
    summary: 'The deltas a merge archived (applied, late, fallback and duplicate copies), as received',
    access: 'read',
    query: [
      { name: 'merge', description: 'the merge frame (required)', integer: true },
      { name: 'writer', description: 'only this writer\'s deltas' },
    ],
    responses: { 200: '{merge, deltas: [{file, sha256, delta} | {file, sha256, problem}]}' },
    handle(req, _reply, server) {
      const m = one(req.query, 'merge');
      if (m === undefined) throw new ApiError(400, 'bad-frame', 'archive needs merge, like /api/archive?merge=12');
      const merge = frameParam(m, 'merge');
      const writer = writerParam(one(req.query, 'writer'));
      const ctx = server.store();
      const plan = PlanHistory.load(ctx).planAt(merge);
      const deltas = readArchive(ctx, merge, plan)
        .filter((a) => writer === undefined || a.delta?.writer === writer || (!a.delta && a.name.includes(`.${writer}.`)))
        .map((a) => {
          // The bytes as received: the archive keeps a delta exactly, so show that, not the parsed form.
          const text = Buffer.from(a.bytes).toString('utf8');
          let delta: unknown;
          try {
            delta = JSON.parse(text);
          } catch {
            delta = undefined;
          }
          return { file: a.file, sha256: a.bytesSha256, ...(delta !== undefined ? { delta } : {}), ...(a.problem ? { problem: a.problem } : {}) };
        });
      return { merge, deltas };
    },
  },
  {
    method: 'GET',
    url: '/api/quarantine',
    summary: 'Deltas set aside because they broke the protocol, each with why and the merge that saw it',
    access: 'read',
    responses: { 200: '{records: [{file, why, merge, utc}]}' },
    handle(_req, _reply, server) {
      const dir = server.store().layout.quarantine;
      let names: string[] = [];
      try {
        names = fs.readdirSync(dir).filter((n) => n.endsWith('.why.json')).sort();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      const records = names.flatMap((n) => {
        try {
          return [JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')) as object];
        } catch {
          return [{ file: n.slice(0, -'.why.json'.length), why: 'unreadable .why.json' }];
        }
      });
      return { records };
    },
  },
  {
    method: 'GET',
    url: '/api/event-types',
    summary: 'The event types in the event log, with how many of each',
    access: 'read',
    responses: { 200: '{types: [{type, count}]} (most frequent first)' },
    handle(_req, _reply, server) {
      const counts = new Map<string, number>();
      for (const e of queryEvents(server.store())) {
        const t = typeof e.event.type === 'string' ? e.event.type : '(none)';
        counts.set(t, (counts.get(t) ?? 0) + 1);
      }
      return { types: [...counts].map(([type, count]) => ({ type, count })).sort((a, b) => b.count - a.count || (a.type < b.type ? -1 : 1)) };
    },
  },
  {
    method: 'GET',
    url: '/api/views/*',
    summary: 'A derived view file under views/ (cladogram.svg, populations.csv…); GET /api/views/ lists them',
    access: 'read',
    responses: { 200: 'the file (json, ndjson, csv, nwk, txt, svg), or {files} for the listing', 404: 'no such view file' },
    handle(req, reply, server) {
      const root = server.store().layout.views;
      const rel = (req.params as Record<string, string>)['*'] ?? '';
      if (rel === '') {
        const files: string[] = [];
        const walk = (d: string, prefix: string): void => {
          let entries: fs.Dirent[] = [];
          try {
            entries = fs.readdirSync(d, { withFileTypes: true });
          } catch {
            return;
          }
          for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
            if (e.name.startsWith('.')) continue;
            if (e.isDirectory()) walk(path.join(d, e.name), `${prefix}${e.name}/`);
            else if (e.isFile() && VIEW_TYPES[path.extname(e.name)]) files.push(prefix + e.name);
          }
        };
        walk(root, '');
        return { files };
      }
      const parts = rel.split('/');
      if (parts.some((p) => p === '' || p === '.' || p === '..' || !/^[A-Za-z0-9._-]{1,128}$/.test(p))) {
        throw new ApiError(400, 'bad-name', `view path ${JSON.stringify(rel.slice(0, 80))} is not allowed: folders and names of A-Z a-z 0-9 . _ -`);
      }
      const type = VIEW_TYPES[path.extname(rel)];
      const file = path.join(root, ...parts);
      const st = type ? fs.statSync(file, { throwIfNoEntry: false }) : undefined;
      if (!type || !st?.isFile()) throw new ApiError(404, 'not-found', `no view file ${JSON.stringify(rel)} (GET /api/views/ lists them)`);
      // A store's SVG is shown as an image; should it be opened directly, nothing in it runs.
      reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
      reply.type(type);
      return fs.readFileSync(file);
    },
  },
];
