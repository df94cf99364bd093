import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { FramelogError } from '../../../errors.js';

/** One server of a {@link NatsCluster}. */
export interface NatsNode {
  /** `--server_name`: what stream and consumer infos call it (`cluster.leader`). */
  name: string;
  /** Client URL, `nats://127.0.0.1:<port>`. */
  url: string;
  port: number;
  clusterPort: number;
  process: ChildProcess;
  /** False once the process exited. */
  readonly alive: boolean;
}

/** A JetStream cluster of local `nats-server` processes on loopback. */
export interface NatsCluster {
  nodes: NatsNode[];
  /** Every node's client URL, comma-separated (what `openNatsTransport({ url })` takes). */
  url: string;
  /** Where the nodes keep their JetStream stores and logs (`<name>/`, `<name>.log`). */
  dir: string;
  /** The node of that server name. */
  node(name: string): NatsNode;
  /** Kills one node (SIGKILL by default) and waits until its process is gone. */
  kill(node: NatsNode, signal?: NodeJS.Signals): Promise<void>;
  /** Kills every node still running and removes `dir` (kept when FRAMELOG_KEEP_NATS_CLUSTER=1, for its logs). Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startNatsCluster}. */
export interface NatsClusterOptions {
  /** Number of servers (default 3). */
  size?: number;
  /** The server binary (default `FRAMELOG_NATS_SERVER` or `nats-server` on the PATH; Debian's is /usr/sbin/nats-server). */
  binary?: string;
  /** How long to wait for the JetStream meta leader (default 30 s). */
  readyMs?: number;
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `size` `nats-server` processes with JetStream on free high ports of 127.0.0.1, routed to
 * each other as one cluster (`--cluster`, `--routes`, `--cluster_name`, a `-sd` store each), and
 * waits until JetStream answers on every node (the cluster elected its meta leader). Callers stop
 * it with `stop()` (in `afterAll`).
 */
export async function startNatsCluster(o: NatsClusterOptions = {}): Promise<NatsCluster> {
  const size = o.size ?? 3;
  const binary = o.binary ?? process.env.FRAMELOG_NATS_SERVER ?? 'nats-server';
  const dir = mkdtempSync(join(tmpdir(), 'framelog-nats-cluster-'));
  const clusterName = `framelog_${process.pid}_${Date.now().toString(36)}`;
  const ports: number[] = [];
  while (ports.length < size * 2) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const nodes: NatsNode[] = [];
  for (let i = 0; i < size; i++) {
    const name = `n${i + 1}`;
    const port = ports[i * 2];
    const clusterPort = ports[i * 2 + 1];
    const routes = Array.from({ length: size }, (_, j) => j).filter((j) => j !== i).map((j) => `nats://127.0.0.1:${ports[j * 2 + 1]}`).join(',');
    mkdirSync(join(dir, name), { recursive: true });
    const child = spawn(binary, [
      '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, name), '--server_name', name,
      '--cluster', `nats://127.0.0.1:${clusterPort}`, '--cluster_name', clusterName, '--routes', routes,
      '-l', join(dir, `${name}.log`),
    ], { stdio: 'ignore' });
    let alive = true;
    child.once('exit', () => (alive = false));
    child.once('error', () => (alive = false));
    nodes.push({ name, url: `nats://127.0.0.1:${port}`, port, clusterPort, process: child, get alive() { return alive; } });
  }
  const cluster: NatsCluster = {
    nodes,
    url: nodes.map((n) => n.url).join(','),
    dir,
    node(name) {
      const n = nodes.find((x) => x.name === name);
      if (!n) throw new FramelogError(`nats cluster: no node named ${name} (have ${nodes.map((x) => x.name).join(', ')})`, 'bad-argument');
      return n;
    },
    async kill(node, signal = 'SIGKILL') {
      if (!node.alive) return;
      const gone = new Promise((r) => node.process.once('exit', r));
      node.process.kill(signal);
      await gone;
    },
    async stop() {
      await Promise.all(nodes.map((n) => cluster.kill(n)));
      if (process.env.FRAMELOG_KEEP_NATS_CLUSTER === '1') process.stderr.write(`nats cluster: logs and stores kept in ${dir}\n`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    const until = Date.now() + (o.readyMs ?? 30_000);
    for (const n of nodes) {
      for (;;) {
        if (!n.alive) throw new FramelogError(`nats cluster: ${binary} (${n.name} on port ${n.port}) exited at start; see ${join(dir, `${n.name}.log`)}`, 'nats-cluster');
        try {
          const nc = await connect({ servers: n.url, timeout: 1000, reconnect: false });
          try {
            await (await jetstreamManager(nc, { timeout: 1000 })).getAccountInfo();
            break;
          } finally {
            await nc.close();
          }
        } catch (e) {
          if (Date.now() > until) throw new FramelogError(`nats cluster: JetStream did not answer on ${n.name} (${n.url}) within ${o.readyMs ?? 30_000} ms: ${(e as Error).message}`, 'nats-cluster');
          await sleep(200);
        }
      }
    }
    await waitForPlacement(cluster, size, until);
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

/**
 * Every node answering JetStream is not yet a cluster that can place a stream on `size` peers: the
 * meta leader learns of its peers over the routes a little later, and until then a stream of
 * `size` replicas is refused with "no suitable peers for placement". Creates (and deletes) a probe
 * stream of `size` replicas until the cluster accepts it, or `until` passes.
 */
async function waitForPlacement(cluster: NatsCluster, size: number, until: number): Promise<void> {
  const nc = await connect({ servers: cluster.nodes.map((n) => n.url), timeout: 1000 });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 2000 });
    const name = `framelog_probe_${process.pid}`;
    for (;;) {
      try {
        await jsm.streams.add({ name, subjects: [`framelog.probe.${process.pid}`], num_replicas: size });
        await jsm.streams.delete(name);
        return;
      } catch (e) {
        if (Date.now() > until) throw new FramelogError(`nats cluster: a stream of ${size} replicas could not be placed in time: ${(e as Error).message}; see the logs in ${cluster.dir}`, 'nats-cluster');
        await sleep(250);
      }
    }
  } finally {
    await nc.close();
  }
}
