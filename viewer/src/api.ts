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
