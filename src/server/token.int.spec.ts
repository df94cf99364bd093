import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { initStore } from '../store/storeContext.js';
import { ensureToken, readToken, rotateToken, tokenPath } from './token.js';

const store = () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'framelog-token-')), 'store');
  initStore(dir);
  return dir;
};

describe('the store token', () => {
  it('is made once, private, and listed in .gitignore with the lock', () => {
    const dir = store();
    expect(readToken(dir)).toBeUndefined();
    const t = ensureToken(dir);
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(ensureToken(dir)).toBe(t);
    expect(fs.statSync(tokenPath(dir)).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(tokenPath(dir))).mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8')).toBe('.secrets/\nmerger.lock\n');
  });

  it('keeps a .gitignore the user wrote, adding only what is missing', () => {
    const dir = store();
    fs.writeFileSync(path.join(dir, '.gitignore'), 'views/\nmerger.lock');
    ensureToken(dir);
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8')).toBe('views/\nmerger.lock\n.secrets/\n');
  });

  it('rotates to a new value, atomically, still private', () => {
    const dir = store();
    const t = ensureToken(dir);
    const u = rotateToken(dir);
    expect(u).not.toBe(t);
    expect(readToken(dir)).toBe(u);
    expect(fs.statSync(tokenPath(dir)).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(path.dirname(tokenPath(dir)))).toEqual(['token']);
  });

  it('makes a token file others can read private again, and refuses a damaged one', () => {
    const dir = store();
    ensureToken(dir);
    fs.chmodSync(tokenPath(dir), 0o644);
    readToken(dir);
    expect(fs.statSync(tokenPath(dir)).mode & 0o777).toBe(0o600);
    fs.writeFileSync(tokenPath(dir), 'short\n');
    expect(() => readToken(dir)).toThrow(/not a framelog token/);
  });

  it('refuses a folder that is not a store', () => {
    expect(() => ensureToken(fs.mkdtempSync(path.join(os.tmpdir(), 'framelog-none-')))).toThrow(/no framelog store/);
  });
});
