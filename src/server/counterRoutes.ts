import { counterSeries } from '../store/history/counterSeries.js';
import { ApiError } from './ApiError.js';
import { frameParam, many, one } from './queryParams.js';
import type { Route } from './Route.js';

/** `GET /api/counter-series`: counters over frames, for charts. */
export const counterRoutes: Route[] = [
  {
    method: 'GET',
    url: '/api/counter-series',
    summary: 'Counters over frames: each counter\'s value after every merge of a range (at most 5,000 merges: the last ones)',
    access: 'read',
    query: [
      { name: 'name', description: 'a counter (repeat for several; none: every counter)' },
      { name: 'from', description: 'the first merge frame', integer: true },
      { name: 'to', description: 'the last merge frame', integer: true },
    ],
    responses: { 200: '{frames: [N…], series: {name: [value…]}, cut}', 400: 'a frame is malformed, or from is after to' },
    handle(req, _reply, server) {
      const q = req.query;
      const f = one(q, 'from'), t = one(q, 'to');
      const from = f === undefined ? undefined : frameParam(f, 'from');
      const to = t === undefined ? undefined : frameParam(t, 'to');
      if (from !== undefined && to !== undefined && from > to) throw new ApiError(400, 'bad-frame', `from ${from} is after to ${to}`);
      return counterSeries(server.store(), many(q, 'name'), { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
    },
  },
];
