import { resolve } from 'node:path';
import { urlHasPassword, type Plan } from '../delta/plan.js';
import { FramelogError } from '../errors.js';
import { createFsTransport } from './fs/fsTransport.js';
import { openGitTransport } from './git/gitTransport.js';
import { ENGINE_TRANSPORTS, TRANSPORT_NAMES, type Transport, type TransportConfig, type TransportName } from './transport.js';

const STORE_NAME = /^[A-Za-z0-9_-]{1,48}$/;

/** The default URL of each engine: the service on this machine. */
export const DEFAULT_ENGINE_URLS: Partial<Record<TransportName, string>> = {
  postgres: 'postgres://postgres@127.0.0.1:5432/postgres',
  redis: 'redis://127.0.0.1:6379',
  nats: 'nats://127.0.0.1:4222',
  kafka: 'kafka://127.0.0.1:9092',
};

/**
 * The transport config, each setting from the first that gives it: flags, the environment
 * (`FRAMELOG_TRANSPORT`, `FRAMELOG_URL`, `FRAMELOG_STORE`), the plan's `transport` section
 * (`framelog.json`), then the default (fs; an engine's URL defaults to this machine's service). The
 * URL and store of the plan apply only when it names the same transport. Names the fix on an
 * unknown transport, a missing URL or store name.
 */
export function resolveTransportConfig(flags: { transport?: string; url?: string; store?: string; replicas?: number; requireDurable?: boolean } = {}, env: NodeJS.ProcessEnv = process.env, plan?: Plan['transport']): TransportConfig {
  const name = flags.transport || env.FRAMELOG_TRANSPORT || plan?.kind || 'fs';
  const where = flags.transport ? '--transport' : env.FRAMELOG_TRANSPORT ? 'FRAMELOG_TRANSPORT' : 'framelog.json: transport.kind';
  if (!(TRANSPORT_NAMES as readonly string[]).includes(name)) {
    throw new FramelogError(`${where} ${name}: unknown transport (want one of: ${TRANSPORT_NAMES.join(', ')})`, 'bad-argument');
  }
  const t = name as TransportName;
  const fromPlan = plan?.kind === t ? plan : undefined;
  const url = flags.url || env.FRAMELOG_URL || fromPlan?.url || DEFAULT_ENGINE_URLS[t];
  if (t === 'git' && !url) throw new FramelogError('--transport git needs --url (a bare repository, or any remote git reaches; or set FRAMELOG_URL, or transport.url in framelog.json)', 'bad-argument');
  const requireDurable = flags.requireDurable === true || fromPlan?.requireDurable === true ? { requireDurable: true } : {};
  if (!ENGINE_TRANSPORTS.includes(t)) return { transport: t, url: url || undefined, ...requireDurable };
  const store = flags.store || env.FRAMELOG_STORE || fromPlan?.store;
  if (!store) throw new FramelogError(`--transport ${t} needs --store NAME (the store's name in ${t}; or set FRAMELOG_STORE, or transport.store in framelog.json)`, 'bad-argument');
  if (!STORE_NAME.test(store)) throw new FramelogError(`--store ${store}: a store name is 1 to 48 letters, digits, _ or -`, 'bad-argument');
  // Replicas: the flag, then the store's own record (so every process of the store agrees), then
  // the environment (how stores made before framelog recorded it were told).
  const envName = t === 'nats' ? 'FRAMELOG_NATS_REPLICAS' : t === 'kafka' ? 'FRAMELOG_KAFKA_REPLICAS' : undefined;
  const envText = envName ? env[envName] : undefined;
  if (flags.replicas !== undefined && t !== 'nats' && t !== 'kafka') throw new FramelogError(`--replicas applies to nats and kafka only (not ${t})`, 'bad-argument');
  let replicas = flags.replicas ?? fromPlan?.replicas;
  if (replicas === undefined && envText) {
    replicas = Number(envText);
    if (!Number.isSafeInteger(replicas) || replicas < 1 || replicas > 5) throw new FramelogError(`${envName} ${envText}: must be a whole number from 1 to 5`, 'bad-argument');
  }
  if (replicas !== undefined && (!Number.isSafeInteger(replicas) || replicas < 1 || replicas > 5)) throw new FramelogError(`--replicas ${replicas}: must be a whole number from 1 to 5`, 'bad-argument');
  return { transport: t, url, store, ...(replicas !== undefined ? { replicas } : {}), ...requireDurable };
}

/**
 * The `transport` section `transport init` writes into framelog.json: what the config says, with a
 * local git remote made absolute and a password left out (this file is shared, and git commits it).
 */
export function planTransportSection(config: TransportConfig): NonNullable<Plan['transport']> {
  let url = config.url;
  if (url && urlHasPassword(url)) {
    const u = new URL(url);
    u.password = '';
    url = u.toString();
  } else if (url && config.transport === 'git' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^[^/]+@[^/]+:/.test(url)) {
    url = resolve(url);
  }
  return { kind: config.transport, ...(url ? { url } : {}), ...(config.store ? { store: config.store } : {}), ...(config.replicas !== undefined ? { replicas: config.replicas } : {}), ...(config.requireDurable ? { requireDurable: true } : {}) };
}
/**
 * Opens a transport on the local store folder `dir`: for fs, the store itself (`url`, when given,
 * is the store folder); for git, `dir` is this process's clone of `url` (cloned when missing); for
 * postgres, redis, nats and kafka, `dir` is only the merger's own store (writers need none), and the
 * engine's client is loaded on first use. With `config.requireDurable`, an engine that can lose
 * what it acknowledges is refused (FramelogError `not-durable`), unless the caller checks
 * `durability` itself (`checkDurabilityLater`, as `put` does after judging its inputs).
 */
export async function openTransport(config: TransportConfig, dir: string, opts: { identity?: string; pollMs?: number; role?: 'writer' | 'merger'; checkDurabilityLater?: boolean } = {}): Promise<Transport> {
  const t = await openUnchecked(config, dir, opts);
  if (config.requireDurable && !opts.checkDurabilityLater && !t.durability.onDiskWhenAcknowledged) {
    await t.close();
    throw new FramelogError(`${config.transport}: ${t.durability.summary}; refused: this store requires durable acknowledgements (--require-durable, or transport.requireDurable in framelog.json)`, 'not-durable');
  }
  return t;
}

async function openUnchecked(config: TransportConfig, dir: string, opts: { identity?: string; pollMs?: number; role?: 'writer' | 'merger' }): Promise<Transport> {
  const store = config.store ?? '';
  switch (config.transport) {
    case 'fs':
      return createFsTransport(config.url ? resolve(config.url) : dir);
    case 'git':
      return openGitTransport({ url: config.url!, dir, identity: opts.identity, pollMs: opts.pollMs, role: opts.role });
    case 'postgres':
      return (await import('./postgres/postgresTransport.js')).openPostgresTransport({ url: config.url!, store });
    case 'redis':
      return (await import('./redis/redisTransport.js')).openRedisTransport({ url: config.url!, store });
    case 'nats':
      // Replicas (the store's record, see resolveTransportConfig): streams and the lease bucket.
      return (await import('./nats/natsTransport.js')).openNatsTransport({ url: config.url!, store, ...(config.replicas !== undefined ? { replicas: config.replicas } : {}) });
    case 'kafka':
      // Replication of the topics created (default 3 on a cluster of 3 brokers or more).
      return (await import('./kafka/kafkaTransport.js')).openKafkaTransport({ url: config.url!, store, ...(config.replicas !== undefined ? { replicas: config.replicas } : {}) });
  }
}
