import fs from 'node:fs';
import path from 'node:path';
import { cladogramAt, type Cladogram } from '../engine/demos/evolution/cladogram.js';
import { cladogramSvg } from '../engine/demos/evolution/cladogramSvg.js';
import { ApiError } from './ApiError.js';
import { frameParam, one } from './queryParams.js';
import type { Route } from './Route.js';

/** The evolution demo's cladogram drawn as it stood at a frame (the viewer's Demo panel follows its timeline with it). */
export const cladogramRoutes: Route[] = [
  {
    method: 'GET',
    url: '/api/cladogram.svg',
    summary: "The evolution demo's cladogram (views/evolution/cladogram.json) drawn as it stood at a frame: the species born by then, alive unless extinct by then",
    access: 'read',
    query: [{ name: 'frame', description: 'the frame (default: the last one the cladogram covers)' }],
    responses: { 200: 'an SVG picture', 400: 'frame is not a whole number', 404: 'no views/evolution/cladogram.json (run framelog demo evolution)' },
    handle(req, reply, server) {
      const file = path.join(server.store().layout.views, 'evolution', 'cladogram.json');
      if (!fs.existsSync(file)) throw new ApiError(404, 'not-found', 'no views/evolution/cladogram.json in this store (framelog demo evolution writes it)');
      const c = JSON.parse(fs.readFileSync(file, 'utf8')) as Cladogram;
      const text = one(req.query, 'frame');
      const frame = text === undefined ? c.lastFrame : frameParam(text, 'frame');
      reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
      reply.type('image/svg+xml');
      return cladogramSvg(cladogramAt(c, frame));
    },
  },
];
