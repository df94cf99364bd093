import { readFileSync } from 'node:fs';
import { basename, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sha256Hex } from '../delta/contentHash.js';
import type { JsonValue } from '../delta/types.js';
import { FramelogError } from '../errors.js';
import type { State } from '../merge/canonicalState.js';
import type { ConflictEntry } from '../store/history/journalQueries.js';

/**
 * A custom resolver: a module exporting `resolve(conflict, state)` that returns the value to write
 * (an item, for an item conflict), or `undefined` to leave that conflict open. It may be async.
 */
export type ResolverFunction = (conflict: ConflictEntry, state: State) => JsonValue | undefined | Promise<JsonValue | undefined>;

/** A loaded resolver and what identifies its code: the resolution's meta records both. */
export interface Resolver {
  resolve: ResolverFunction;
  /** The module's file name. */
  module: string;
  /** SHA-256 of the module's bytes: a replay knows exactly which code decided. */
  sha256: string;
}

/**
 * Loads a resolver module (`--with ./resolver.mjs`). The bytes hashed are the bytes imported: the
 * module is imported from a URL that carries the hash, so an edited file is never served from
 * the module cache under the old hash.
 */
export async function loadResolver(path: string): Promise<Resolver> {
  const abs = resolvePath(path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(abs);
  } catch (e) {
    throw new FramelogError(`--with ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, 'bad-argument');
  }
  const sha256 = sha256Hex(bytes);
  let mod: { resolve?: unknown; default?: { resolve?: unknown } };
  try {
    mod = (await import(`${pathToFileURL(abs).href}?sha256=${sha256}`)) as typeof mod;
  } catch (e) {
    throw new FramelogError(`--with ${path}: the module does not load: ${(e as Error).message.split('\n')[0]}`, 'bad-argument');
  }
  const fn = typeof mod.resolve === 'function' ? mod.resolve : typeof mod.default?.resolve === 'function' ? mod.default.resolve : undefined;
  if (!fn) throw new FramelogError(`--with ${path}: the module exports no resolve(conflict, state) function`, 'bad-argument');
  return { resolve: fn as ResolverFunction, module: basename(abs), sha256 };
}
