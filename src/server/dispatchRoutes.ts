import fs from 'node:fs';
import { scanStream } from '../stream/scanStream.js';
import { streamPaths } from '../stream/streamPaths.js';
import { ApiError } from './ApiError.js';
import { dispatchTimeline } from './dispatchTimeline.js';
import { one, streamNameParam } from './queryParams.js';
import type { Route } from './Route.js';

async function recordsOf(dir: string, name: string, required: boolean): Promise<Array<Record<string, unknown>>> {
  const file = streamPaths(dir, name).file;
  if (!fs.existsSync(file)) {
    if (required) throw new ApiError(404, 'not-found', `no stream ${JSON.stringify(name)} in this store (the dispatch timeline reads a register of lifecycle records)`);
    return [];
  }
  const out: Array<Record<string, unknown>> = [];
  for await (const r of scanStream(file)) out.push(r.record as Record<string, unknown>);
  return out;
}

/** The per-dispatch timeline, built from the register and receipts streams. */
export const dispatchRoutes: Route[] = [
  {
    method: 'GET',
    url: '/api/dispatches',
    summary: 'Every dispatch (one life of an agent: start or restart to crash or stop, from the register) with its phase per frame (from the receipts)',
    access: 'read',
    query: [
      { name: 'register', description: 'the lifecycle stream (default register)' },
      { name: 'receipts', description: 'the receipts stream (default receipts)' },
    ],
    responses: { 200: '{dispatches: [{id, agent, pid, start, from, startTs, end, to, endTs, frames: [{frame, phase, receipts}]}], first, last}', 404: 'no register stream' },
    async handle(req, _reply, server) {
      const register = streamNameParam(one(req.query, 'register') ?? 'register');
      const receipts = streamNameParam(one(req.query, 'receipts') ?? 'receipts');
      const dispatches = dispatchTimeline(await recordsOf(server.options.dir, register, true), await recordsOf(server.options.dir, receipts, false));
      const first = dispatches.length ? Math.min(...dispatches.map((d) => d.from)) : null;
      const last = dispatches.length ? Math.max(...dispatches.map((d) => d.to)) : null;
      return { dispatches, first, last };
    },
  },
];
