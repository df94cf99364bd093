import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The JavaScript file to run in a child process for `url`: itself when it exists, else (tests
 * running the TypeScript sources) the same path under `dist/` with a `.js` extension.
 */
export function compiledPath(url: string | URL): string {
  const path = url instanceof URL || url.startsWith('file:') ? fileURLToPath(url) : url;
  if (existsSync(path) && !path.endsWith('.ts')) return path;
  const mapped = path.replace(/([\\/])src([\\/])/, '$1dist$2').replace(/\.ts$/, '.js');
  if (existsSync(mapped)) return mapped;
  return path;
}
