import { ndjsonLines } from '../delta/ndjsonLines.js';
import { putDeltas, type PutInput } from '../store/inbox/putDeltas.js';
import { ApiError } from './ApiError.js';
import type { Route } from './Route.js';

/** The deltas of a request body: the whole body (application/json) or one per NDJSON line. */
function deltasOfBody(body: unknown, contentType: string | undefined, maxDeltaBytes: number): PutInput[] {
  if (!Buffer.isBuffer(body) || body.length === 0) throw new ApiError(400, 'empty-body', 'no delta given: send one delta as application/json, or NDJSON as application/x-ndjson');
  const inputs: PutInput[] = (contentType ?? '').startsWith('application/x-ndjson')
    ? ndjsonLines(body).map(({ line, bytes }) => ({ bytes, source: `body:${line}` }))
    : [{ bytes: body, source: 'body' }];
  if (inputs.length === 0) throw new ApiError(400, 'empty-body', 'no delta given: the NDJSON body has only blank lines');
  for (const i of inputs) {
    if (i.bytes.length > maxDeltaBytes) {
      throw new ApiError(413, 'delta-too-large', `${i.source}: ${i.bytes.length} bytes, over the plan's maxDeltaBytes of ${maxDeltaBytes}: split the delta`);
    }
  }
  return inputs;
}

/** `POST /api/deltas`: the HTTP twin of `framelog put`. */
export const deltaRoutes: Route[] = [
  {
    method: 'POST',
    url: '/api/deltas',
    summary: 'Validate deltas exactly as `framelog put` does and drop them into the inbox: all or nothing, durable when answered',
    access: 'write',
    body: { types: ['application/json', 'application/x-ndjson'], description: 'one delta (application/json), or NDJSON with one delta per line; kept byte for byte' },
    responses: {
      201: '{put: [{source, file, frame, writer, seq, sha256, status, written}]}',
      200: 'as 201, when every delta was already pending (nothing written)',
      400: 'a delta breaks PROTOCOL §1 (the message names which and why); nothing was written',
      401: 'no token, or a wrong one',
      413: 'body over the server limit, or a delta over the plan\'s maxDeltaBytes',
      415: 'not JSON or NDJSON',
    },
    handle(req, reply, server) {
      const ctx = server.store();
      const results = putDeltas(ctx, deltasOfBody(req.body, req.headers['content-type'], ctx.plan.maxDeltaBytes));
      reply.code(results.some((r) => r.written) ? 201 : 200);
      return { put: results };
    },
  },
];
