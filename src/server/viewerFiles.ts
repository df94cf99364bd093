import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json', '.map': 'application/json',
};

/** The viewer's page may load only itself: its scripts, styles and images, and this API. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Where the built viewer is: `dist/viewer/` beside `dist/server/` (also when the server runs from
 * its TypeScript sources in tests), or `FRAMELOG_VIEWER_DIR`.
 */
export function viewerRoot(): string {
  if (process.env.FRAMELOG_VIEWER_DIR) return path.resolve(process.env.FRAMELOG_VIEWER_DIR);
  const here = fileURLToPath(new URL('../viewer', import.meta.url));
  if (fs.existsSync(path.join(here, 'index.html'))) return here;
  return here.replace(/([\\/])src([\\/])viewer([\\/])?$/, '$1dist$2viewer$3');
}

/**
 * Serves the web viewer (built by Vite into `dist/viewer/`) at `/`: its files by name, and
 * `index.html` for any other path outside `/api/`, so a deep link opens the app. Requests pass the
 * same Host and Origin checks as the API (the server's `onRequest` hook runs first).
 */
export function registerViewer(app: FastifyInstance, root = viewerRoot()): void {
  const send = (rel: string, reply: import('fastify').FastifyReply): unknown => {
    const file = path.join(root, rel);
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (!st?.isFile()) {
      return reply.code(404).type('application/json').send({ error: 'not-found', message: `the viewer is not built (${root} has no ${rel}): run npm run build` });
    }
    reply.header('content-security-policy', CSP);
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    // Vite names assets by content hash: they may be cached; the page itself may not.
    if (rel.startsWith('assets/')) reply.header('cache-control', 'public, max-age=31536000, immutable');
    return reply.type(TYPES[path.extname(rel)] ?? 'application/octet-stream').send(fs.readFileSync(file));
  };
  app.route({
    method: ['GET', 'HEAD'],
    url: '/*',
    handler: async (req, reply) => {
      const pathname = req.url.split('?')[0];
      if (pathname === '/api' || pathname.startsWith('/api/')) {
        return reply.code(404).type('application/json').send({ error: 'not-found', message: `no endpoint ${req.method} ${pathname.slice(0, 100)} (GET /api/openapi.json lists them)` });
      }
      let rel: string;
      try {
        rel = decodeURIComponent(pathname).replace(/^\/+/, '');
      } catch {
        return reply.code(400).type('application/json').send({ error: 'bad-path', message: 'the path is not valid percent-encoding' });
      }
      const parts = rel.split('/');
      const safe = rel !== '' && !rel.includes('\0') && !rel.includes('\\') && parts.every((p) => p !== '' && p !== '.' && p !== '..');
      if (safe && fs.statSync(path.join(root, ...parts), { throwIfNoEntry: false })?.isFile()) return send(parts.join('/'), reply);
      if (rel.startsWith('assets/')) return reply.code(404).type('application/json').send({ error: 'not-found', message: `no viewer file ${pathname.slice(0, 100)}` });
      return send('index.html', reply);
    },
  });
}
