import type { JsonValue } from '../delta/types.js';
import { isWriterName } from '../delta/plan.js';
import { FramelogError } from '../errors.js';
import { parsePolicyText } from '../resolve/parsePolicyText.js';
import { planResolution } from '../resolve/planResolution.js';
import type { ResolveChoice } from '../resolve/chooseWrite.js';
import { putDeltas } from '../store/inbox/putDeltas.js';
import { ApiError } from './ApiError.js';
import type { Route } from './Route.js';

/** The body of `POST /api/resolve`. */
interface ResolveBody {
  ids: string[];
  value?: JsonValue;
  winner?: string;
  policy?: JsonValue;
  keep?: boolean;
  as?: string;
}

const WAYS = ['value', 'winner', 'policy', 'keep'] as const;

function parseBody(body: unknown): { ids: string[]; choice: ResolveChoice; as?: string } {
  if (!Buffer.isBuffer(body) || body.length === 0) throw new ApiError(400, 'empty-body', 'send {"ids": ["m12.0"], and one of "value", "winner", "policy", "keep": true} as application/json');
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new ApiError(400, 'bad-body', `not JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ApiError(400, 'bad-body', 'the body must be a JSON object');
  const b = raw as Partial<ResolveBody> & Record<string, unknown>;
  const unknown = Object.keys(b).find((k) => k !== 'ids' && k !== 'as' && !(WAYS as readonly string[]).includes(k));
  if (unknown !== undefined) throw new ApiError(400, 'bad-body', `${unknown}: unknown key (ids, value, winner, policy, keep, as)`);
  if (!Array.isArray(b.ids) || b.ids.length === 0 || b.ids.length > 10_000 || !b.ids.every((i) => typeof i === 'string')) throw new ApiError(400, 'bad-body', 'ids: must be a non-empty list of conflict ids like "m12.0"');
  const given = WAYS.filter((k) => b[k] !== undefined);
  if (given.length !== 1) throw new ApiError(400, 'bad-body', `give exactly one of value, winner, policy, keep (got ${given.join(', ') || 'none'})`);
  if (b.as !== undefined && !isWriterName(b.as)) throw new ApiError(400, 'bad-name', 'as: must be a writer name (1–128 characters of A-Z a-z 0-9 . _ -)');
  let choice: ResolveChoice;
  if (b.value !== undefined) choice = { value: b.value };
  else if (b.winner !== undefined) {
    if (!isWriterName(b.winner)) throw new ApiError(400, 'bad-name', 'winner: must be a writer name');
    choice = { winner: b.winner };
  } else if (b.policy !== undefined) choice = { policy: parsePolicyText(typeof b.policy === 'string' ? b.policy : JSON.stringify(b.policy), 'policy') };
  else if (b.keep === true) choice = { keep: true };
  else throw new ApiError(400, 'bad-body', 'keep: must be true');
  return { ids: b.ids as string[], choice, ...(b.as !== undefined ? { as: b.as } : {}) };
}

/** `POST /api/resolve`: the HTTP twin of `framelog resolve` by ids (PROTOCOL §2a). */
export const resolveRoutes: Route[] = [
  {
    method: 'POST',
    url: '/api/resolve',
    summary: 'Close conflicts with a resolution delta (as framelog resolve does), put durably into the inbox; the next merge applies it',
    access: 'write',
    body: { types: ['application/json'], description: '{"ids": ["m12.0", …], one of "value": JSON | "winner": WRITER | "policy": POLICY | "keep": true, and optionally "as": WRITER (default human.web)}' },
    responses: {
      201: '{resolves: [ids], put: [{file, frame, writer, seq, sha256, written}], deltas}',
      400: 'a bad body, an unknown conflict id, a winner with no side in the conflict, an item of another key (the message says which); nothing was written',
      401: 'no token, or a wrong one',
    },
    async handle(req, reply, server) {
      const { ids, choice, as } = parseBody(req.body);
      const ctx = server.store();
      try {
        const plan = await planResolution(ctx, { ids, choice, as: as ?? 'human.web' });
        const put = putDeltas(ctx, plan.deltas.map((d, i) => ({ bytes: Buffer.from(JSON.stringify(d)), source: `resolution #${i + 1}` })));
        reply.code(201);
        return { resolves: plan.resolves, reresolved: plan.reresolved, put, deltas: plan.deltas };
      } catch (e) {
        if (e instanceof FramelogError && (e.code === 'bad-argument' || e.code === 'bad-delta')) throw new ApiError(400, 'bad-resolution', e.message);
        throw e;
      }
    },
  },
];
