import { resolve } from 'node:path';
import { FramelogError } from '../errors.js';
import { createFsTransport } from './fs/fsTransport.js';
import { openGitTransport } from './git/gitTransport.js';
import { TRANSPORT_NAMES, type Transport, type TransportConfig, type TransportName } from './transport.js';

/**
 * The transport config from flags, then the environment (`FRAMELOG_TRANSPORT`, `FRAMELOG_URL`),
 * then the default (fs). Names the fix on an unknown transport or a missing URL.
 */
export function resolveTransportConfig(flags: { transport?: string; url?: string } = {}, env: NodeJS.ProcessEnv = process.env): TransportConfig {
  const name = flags.transport ?? env.FRAMELOG_TRANSPORT ?? 'fs';
  if (!(TRANSPORT_NAMES as readonly string[]).includes(name)) {
    throw new FramelogError(`--transport ${name}: unknown transport (want one of: ${TRANSPORT_NAMES.join(', ')})`, 'bad-argument');
  }
  const url = flags.url ?? env.FRAMELOG_URL;
  if (name === 'git' && !url) throw new FramelogError('--transport git needs --url (a bare repository, or any remote git reaches; or set FRAMELOG_URL)', 'bad-argument');
  return { transport: name as TransportName, url: url || undefined };
}

/**
 * Opens a transport on the local store folder `dir`: for fs, the store itself (`url`, when given,
 * is the store folder); for git, `dir` is this process's clone of `url` (cloned when missing).
 */
export async function openTransport(config: TransportConfig, dir: string, opts: { identity?: string; pollMs?: number } = {}): Promise<Transport> {
  switch (config.transport) {
    case 'fs':
      return createFsTransport(config.url ? resolve(config.url) : dir);
    case 'git':
      return openGitTransport({ url: config.url!, dir, identity: opts.identity, pollMs: opts.pollMs });
  }
}
