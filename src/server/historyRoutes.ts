import { fieldHistory } from '../store/history/fieldHistory.js';
import { ApiError } from './ApiError.js';
import { frameParam, limitParam, one } from './queryParams.js';
import type { Route } from './Route.js';

/** `GET /api/field-history`: every write to one field, newest first, paged. */
export const historyRoutes: Route[] = [
  {
    method: 'GET',
    url: '/api/field-history',
    summary: 'Every write to one field (type, id, field), newest first: the merge, the delta that wrote it, the value, whether it won or lost, and the conflict it took part in',
    access: 'read',
    query: [
      { name: 'type', description: 'the entity type (required)' },
      { name: 'id', description: 'the entity id (required)' },
      { name: 'field', description: 'the field (required)' },
      { name: 'before', description: 'only merges below this frame (the `next` of an earlier page)', integer: true },
      { name: 'limit', description: 'at most this many writes (1 to 1000, default 100)', integer: true },
    ],
    responses: { 200: '{type, id, field, writes: [{merge, frame, writer, seq, utc, value, outcome, conflict?, resolvedBy?}], next?, scanned}', 400: 'a parameter is missing or malformed' },
    handle(req, _reply, server) {
      const q = req.query;
      const need = (k: string): string => {
        const v = one(q, k);
        if (v === undefined || v === '') throw new ApiError(400, 'bad-parameter', `field-history needs ${k}, like /api/field-history?type=agent&id=a1&field=status`);
        return v;
      };
      const type = need('type'), id = need('id'), field = need('field');
      const b = one(q, 'before');
      const page = fieldHistory(server.store(), type, id, field, { limit: limitParam(q), ...(b !== undefined ? { before: frameParam(b, 'before') } : {}) });
      return { type, id, field, ...page };
    },
  },
];
