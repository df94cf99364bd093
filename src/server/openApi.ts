import type { Route } from './Route.js';
import { COMMON_REFUSALS } from './Route.js';

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string', description: 'a stable code (bad-frame, token-required, …)' }, message: { type: 'string', description: 'one line: the input, the rule, the fix' } },
};

/** The OpenAPI 3.1 description of `routes`, built from the same table the server registers. */
export function openApiOf(routes: readonly Route[], version: string): object {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const url = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const m of r.url.matchAll(/:([A-Za-z]+)/g)) {
      parameters.push({ name: m[1], in: 'path', required: true, description: 'stream name: 1–128 of A-Z a-z 0-9 . _ - (not . or ..)', schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' } });
    }
    for (const q of r.query ?? []) {
      const schema = q.integer ? { type: 'integer', minimum: 0 } : { type: 'string' };
      parameters.push({ name: q.name, in: 'query', required: false, description: q.description, schema: q.repeat ? { type: 'array', items: schema } : schema, ...(q.repeat ? { explode: true } : {}) });
    }
    if (r.sse) parameters.push({ name: 'Last-Event-ID', in: 'header', required: false, description: 'the id of the last event received: resume just after it (wins over ?cursor=)', schema: { type: 'string' } });
    if (r.access === 'read') parameters.push({ name: 'token', in: 'query', required: false, description: 'a short-lived token from POST /api/read-tokens (for clients that cannot send headers)', schema: { type: 'string' } });
    const responses: Record<string, unknown> = {};
    const all = { ...r.responses, ...(r.access === 'public' ? {} : COMMON_REFUSALS), ...(r.access === 'public' ? {} : { 401: 'a token is required here, or the one given is wrong' }) };
    for (const [status, description] of Object.entries(all)) {
      const ok = Number(status) < 400;
      responses[status] = {
        description,
        content: ok ? { [r.sse ? 'text/event-stream' : 'application/json']: { schema: { type: r.sse ? 'string' : 'object' } } } : { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    paths[url] ??= {};
    paths[url][r.method.toLowerCase()] = {
      summary: r.summary,
      parameters,
      ...(r.body ? { requestBody: { required: true, description: r.body.description, content: Object.fromEntries(r.body.types.map((t) => [t, { schema: { type: t === 'application/json' ? 'object' : 'string' } }])) } } : {}),
      responses,
      security: r.access === 'write' ? [{ bearer: [] }] : r.access === 'read' ? [{}, { bearer: [] }, { session: [] }] : [],
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'framelog', version, description: 'Read a framelog store, put deltas, append to streams, and follow merges and streams live (Server-Sent Events). Every refusal is {"error", "message"} with its status.' },
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'the store token (`framelog token`)' },
        session: { type: 'apiKey', in: 'cookie', name: 'framelog_session', description: 'read-only cookie from POST /api/session' },
      },
    },
  };
}
