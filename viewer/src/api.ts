/** A refusal from the API: `{error, message}` with its status. */
export class ApiFailure extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

let onUnauthorized: (() => Promise<boolean>) | null = null;

/** What to do when a read needs a token (read-token mode): ask for it, open a session, retry. */
export function setUnauthorizedHandler(f: () => Promise<boolean>): void {
  onUnauthorized = f;
}

/** GETs `/api/…` with query `q` (undefined and empty values left out); JSON, or text with `as: 'text'`. */
export async function api<T = unknown>(path: string, q: Record<string, string | number | undefined> = {}, opts: { signal?: AbortSignal; as?: 'json' | 'text' } = {}): Promise<T> {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') params.set(k, String(v));
  const url = `/api/${path}${params.size ? `?${params}` : ''}`;
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, { signal: opts.signal, credentials: 'same-origin' });
    if (res.status === 401 && attempt === 0 && onUnauthorized && (await onUnauthorized())) continue;
    if (!res.ok) {
      let body: { error?: string; message?: string } = {};
      try {
        body = (await res.json()) as typeof body;
      } catch { /* not JSON */ }
      throw new ApiFailure(res.status, body.error ?? 'http', body.message ?? `${res.status} ${res.statusText}`);
    }
    return (opts.as === 'text' ? await res.text() : await res.json()) as T;
  }
}

/** Opens a read session (HttpOnly cookie) with the store token, for read-token mode and EventSource. */
export async function openSession(token: string): Promise<boolean> {
  const res = await fetch('/api/session', { method: 'POST', headers: { authorization: `Bearer ${token}` }, credentials: 'same-origin' });
  return res.ok;
}

/** True for an aborted fetch (a newer request replaced it). */
export const isAbort = (e: unknown): boolean => e instanceof DOMException && e.name === 'AbortError';

const TOKEN_KEY = 'framelog.token';

/**
 * POSTs JSON to `/api/…` with the store token (writes always need it). The token is asked for once
 * per tab (`framelog token --dir <store>` prints it) and kept in sessionStorage; a refused one is
 * forgotten and asked for again.
 */
export async function apiPost<T = unknown>(path: string, body: unknown): Promise<T> {
  for (let attempt = 0; attempt < 2; attempt++) {
    let token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) {
      token = window.prompt('Writing needs the store token (framelog token --dir <store> prints it):')?.trim() ?? null;
      if (!token) throw new ApiFailure(401, 'no-token', 'no token given: nothing was written');
      sessionStorage.setItem(TOKEN_KEY, token);
    }
    const res = await fetch(`/api/${path}`, { method: 'POST', credentials: 'same-origin', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let out: { error?: string; message?: string } = {};
    try {
      out = (await res.json()) as typeof out;
    } catch { /* not JSON */ }
    if (res.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      if (attempt === 0) continue;
    }
    if (!res.ok) throw new ApiFailure(res.status, out.error ?? 'http', out.message ?? `${res.status} ${res.statusText}`);
    return out as T;
  }
  throw new ApiFailure(401, 'unauthorized', 'the token was refused: nothing was written');
}

/** True when the store has a `register` stream (the dispatch timeline reads it; asking without one is a 404). */
export async function hasRegister(): Promise<boolean> {
  const { streams } = await api<{ streams: Array<{ name: string }> }>('streams');
  return streams.some((s) => s.name === 'register');
}
