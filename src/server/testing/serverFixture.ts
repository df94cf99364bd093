import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { initStore } from '../../store/storeContext.js';
import { createServer, type FramelogServer } from '../createServer.js';
import type { ServerOptions } from '../ServerOptions.js';
import { ensureToken } from '../token.js';

/** A store in a temp folder with a server on a free loopback port. */
export interface Served {
  server: FramelogServer;
  url: string;
  port: number;
  dir: string;
  token: string;
  /** Bearer header for writes. */
  auth: Record<string, string>;
  close(): Promise<void>;
}

export function tempStore(): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'framelog-server-')), 'store');
  initStore(dir);
  return dir;
}

export async function serve(options: Partial<ServerOptions> = {}, dir = tempStore()): Promise<Served> {
  const token = ensureToken(dir);
  const server = createServer({ dir, port: 0, ...options });
  const url = await server.listen();
  const port = Number(new URL(url).port);
  return {
    server,
    url,
    port,
    dir,
    token,
    auth: { authorization: `Bearer ${token}` },
    close: () => server.close(),
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/**
 * One HTTP request with full control of the headers (`Host` and `Origin` included, which fetch
 * would not let a test forge). `path` is sent as is: no normalisation, no encoding.
 */
export function request(s: { port: number }, method: string, target: string, opts: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: `127.0.0.1:${s.port}`, ...opts.headers };
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
    const req = http.request({ host: '127.0.0.1', port: s.port, method, path: target, headers, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** A valid delta as JSON text. */
export function delta(frame: number, writer: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ frame, writer, utc: `2026-04-19T14:30:${String(frame % 60).padStart(2, '0')}.000Z`, ...extra });
}

export const JSON_TYPE = { 'content-type': 'application/json' };
export const NDJSON_TYPE = { 'content-type': 'application/x-ndjson' };
