import { connect } from 'node:net';

/** A service the transport tests talk to for real. */
export interface Service {
  name: 'postgres' | 'redis' | 'nats' | 'kafka';
  host: string;
  port: number;
  /** The command that starts it on a Debian machine like the CI's. */
  start: string;
}

/** The services of this machine (override with FRAMELOG_PG_URL / FRAMELOG_REDIS_URL / FRAMELOG_NATS_URL / FRAMELOG_KAFKA_URL). */
export const SERVICES: Record<Service['name'], Service> = {
  postgres: { name: 'postgres', host: '127.0.0.1', port: 5432, start: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' },
  redis: { name: 'redis', host: '127.0.0.1', port: 6379, start: 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no' },
  nats: { name: 'nats', host: '127.0.0.1', port: 4222, start: 'nats-server -a 127.0.0.1 -p 4222 -js &' },
  kafka: { name: 'kafka', host: '127.0.0.1', port: 9092, start: 'npm run kafka:start (needs Java 17+ and Maven: the broker comes from Maven Central)' },
};

/** The URL tests use for each service. */
export const SERVICE_URLS = {
  postgres: process.env.FRAMELOG_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  redis: process.env.FRAMELOG_REDIS_URL ?? 'redis://127.0.0.1:6379',
  nats: process.env.FRAMELOG_NATS_URL ?? 'nats://127.0.0.1:4222',
  kafka: process.env.FRAMELOG_KAFKA_URL ?? 'kafka://127.0.0.1:9092',
} as const;

/** True when something answers on the service's TCP port within `timeoutMs`. */
export function answers(s: Service, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: s.host, port: s.port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/**
 * Whether the tests of a service run: true when it answers. When it does not, under `CI=true` this
 * throws (a missing service is a failure in CI, never a skip); otherwise it prints one line saying
 * how to start it and returns false, so the suite skips.
 */
export async function serviceForTests(name: Service['name']): Promise<boolean> {
  const s = SERVICES[name];
  if (await answers(s)) return true;
  const line = `${name} does not answer on ${s.host}:${s.port}; start it with: ${s.start}`;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI: ${line}`);
  process.stderr.write(`skipping the ${name} transport tests: ${line}\n`);
  return false;
}

/** One engine transport and the service its tests need. */
export interface EngineUnderTest {
  transport: 'postgres' | 'redis' | 'nats' | 'kafka';
  url: string;
  /** Whether its service answers (see {@link serviceForTests}). */
  available: boolean;
}

/** The engine transports, each with its service's URL and whether it answers: for `describe.each`. */
export async function enginesForTests(): Promise<EngineUnderTest[]> {
  const names = ['postgres', 'redis', 'nats', 'kafka'] as const;
  return Promise.all(names.map(async (transport) => ({ transport, url: SERVICE_URLS[transport], available: await serviceForTests(transport) })));
}
