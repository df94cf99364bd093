// A 3-broker KRaft cluster on loopback for tests (scripts/kafka/start.sh --cluster), with a way to
// SIGKILL one broker and start it again. Excluded from the build: tests only.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const script = (name: string): string => join(root, 'scripts', 'kafka', name);
const clusterDir = (): string => join(process.env.FRAMELOG_KAFKA_DIR ?? join(root, '.kafka'), 'cluster');

/** The running cluster. */
export interface KafkaCluster {
  /** `kafka://127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094` */
  url: string;
  /** SIGKILLs broker `id` (1–3). */
  kill(id: number): void;
  /** Starts the brokers that are down again (the running ones are left alone). */
  restart(): void;
  /** Stops the cluster's brokers and deletes their data. */
  stop(): void;
}

/** Starts the cluster (fresh data), waiting until every broker answers. */
export function startKafkaCluster(): KafkaCluster {
  execFileSync('bash', [script('stop.sh'), '--cluster', '--wipe'], { stdio: 'ignore' });
  execFileSync('bash', [script('start.sh'), '--cluster'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
  return {
    url: 'kafka://127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094',
    kill(id) {
      const pid = Number(readFileSync(join(clusterDir(), `node-${id}`, 'pid'), 'utf8'));
      process.kill(pid, 'SIGKILL');
    },
    restart() {
      execFileSync('bash', [script('start.sh'), '--cluster'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
    },
    stop() {
      execFileSync('bash', [script('stop.sh'), '--cluster', '--wipe'], { stdio: 'ignore' });
    },
  };
}
