import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FramelogError } from '../errors.js';

/** Lines the store's `.gitignore` must hold so a git transport never commits a secret or a lock. */
const IGNORED = ['.secrets/', 'merger.lock'];

/** Where the store's bearer token lives: `<store>/.secrets/token` (folder 0700, file 0600). */
export function tokenPath(dir: string): string {
  return path.join(dir, '.secrets', 'token');
}

const newToken = (): string => randomBytes(32).toString('base64url');

/** Creates `.secrets/` (0700) and makes sure the store's `.gitignore` lists the secrets and the lock. */
function prepare(dir: string): string {
  if (!fs.existsSync(path.join(dir, 'framelog.json'))) {
    throw new FramelogError(`${dir}: no framelog store here (run: framelog init --dir ${dir})`, 'no-store');
  }
  const secrets = path.join(dir, '.secrets');
  fs.mkdirSync(secrets, { recursive: true, mode: 0o700 });
  fs.chmodSync(secrets, 0o700);
  const ignore = path.join(dir, '.gitignore');
  const text = fs.existsSync(ignore) ? fs.readFileSync(ignore, 'utf8') : '';
  const have = new Set(text.split(/\r?\n/).map((l) => l.trim()));
  const missing = IGNORED.filter((l) => !have.has(l));
  if (missing.length > 0) fs.writeFileSync(ignore, (text && !text.endsWith('\n') ? text + '\n' : text) + missing.join('\n') + '\n');
  return secrets;
}

/**
 * Writes `token` to a temp file (0600), fsyncs it and renames it over the token file; with
 * `exclusive`, links it into place instead, so a token another process created first is kept.
 */
function writeToken(dir: string, token: string, exclusive = false): void {
  const secrets = prepare(dir);
  const tmp = path.join(secrets, `.token.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, token + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  if (!exclusive) {
    fs.renameSync(tmp, tokenPath(dir));
    return;
  }
  try {
    fs.linkSync(tmp, tokenPath(dir));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    fs.unlinkSync(tmp);
  }
}

/** The store's token, or undefined when there is none. A token file others can read is made private. */
export function readToken(dir: string): string | undefined {
  const file = tokenPath(dir);
  let text: string;
  try {
    const st = fs.statSync(file);
    if ((st.mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const token = text.trim();
  if (!/^[A-Za-z0-9_-]{32,256}$/.test(token)) {
    throw new FramelogError(`${file}: not a framelog token (rotate it: framelog token --rotate --dir ${dir})`, 'bad-token-file');
  }
  return token;
}

/**
 * The bearer token of the store at `dir`, created when missing (`framelog init`, or lazily for a
 * store made by the library's `initStore`): 32 random bytes, base64url, in `.secrets/token`.
 */
export function ensureToken(dir: string): string {
  const existing = readToken(dir);
  if (existing !== undefined) {
    prepare(dir);
    return existing;
  }
  writeToken(dir, newToken(), true);
  return readToken(dir)!;
}

/** Replaces the store's token with a new one (a running server picks it up at the next request). */
export function rotateToken(dir: string): string {
  const token = newToken();
  writeToken(dir, token);
  return token;
}
