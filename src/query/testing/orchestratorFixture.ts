import { openStreamAppender } from '../../stream/index.js';

/** One dispatch of the orchestrator scenario, as the fixture knows it (the ground truth). */
export interface FixtureDispatch {
  readonly id: string;
  readonly worker: 'T1' | 'T2' | 'T3';
  readonly durationMs: number;
  readonly gates: ReadonlyArray<{ gate: string; result: 'pass' | 'fail' }>;
  readonly terminal: 'done' | 'failed' | undefined;
}

/** Deterministic dispatches: random ones plus the edge cases a join gets wrong. */
export function fixtureDispatches(count = 60, seed = 7): FixtureDispatch[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const out: FixtureDispatch[] = [];
  const workers = ['T1', 'T2', 'T3'] as const;
  for (let i = 0; i < count; i++) {
    const gates: Array<{ gate: string; result: 'pass' | 'fail' }> = [{ gate: 'tests', result: rnd() < 0.4 ? 'fail' : 'pass' }];
    if (rnd() < 0.5) gates.push({ gate: 'lint', result: rnd() < 0.3 ? 'fail' : 'pass' });
    out.push({
      id: `d-${String(i).padStart(3, '0')}`,
      worker: workers[Math.floor(rnd() * 3)]!,
      durationMs: Math.floor(rnd() * 600_000),
      gates,
      terminal: rnd() < 0.8 ? (gates.some((g) => g.result === 'fail') ? 'failed' : 'done') : undefined,
    });
  }
  // Edges: exactly 5 minutes is not over; two failed gates are one dispatch; T2 that passed.
  out.push({ id: 'edge-exact', worker: 'T2', durationMs: 300_000, gates: [{ gate: 'tests', result: 'fail' }], terminal: 'failed' });
  out.push({ id: 'edge-just-over', worker: 'T2', durationMs: 300_001, gates: [{ gate: 'tests', result: 'fail' }], terminal: 'failed' });
  out.push({ id: 'edge-two-fails', worker: 'T2', durationMs: 900_000, gates: [{ gate: 'tests', result: 'fail' }, { gate: 'lint', result: 'fail' }], terminal: 'failed' });
  out.push({ id: 'edge-passed', worker: 'T2', durationMs: 900_000, gates: [{ gate: 'tests', result: 'pass' }], terminal: 'done' });
  out.push({ id: 'edge-t3', worker: 'T3', durationMs: 900_000, gates: [{ gate: 'tests', result: 'fail' }], terminal: 'failed' });
  return out;
}

/** The answer to "gate failed, worker T2, ran over 5 minutes", from the ground truth. */
export function expectedSlowFailedT2(dispatches: readonly FixtureDispatch[]): string[] {
  return dispatches.filter((d) => d.worker === 'T2' && d.durationMs > 300_000 && d.gates.some((g) => g.result === 'fail')).map((d) => d.id);
}

/** Writes the receipts, audit and register streams of `dispatches` into `storeDir`, interleaved in time. */
export async function writeOrchestratorStreams(storeDir: string, dispatches: readonly FixtureDispatch[]): Promise<void> {
  const receipts = openStreamAppender(storeDir, 'receipts', { durability: 'none' });
  const audit = openStreamAppender(storeDir, 'audit', { durability: 'none' });
  const register = openStreamAppender(storeDir, 'register', { durability: 'none' });
  const t0 = Date.parse('2026-04-19T14:00:00.000Z');
  const iso = (ms: number) => new Date(ms).toISOString();
  try {
    for (const [i, d] of dispatches.entries()) {
      const start = t0 + i * 10_000;
      const end = start + d.durationMs;
      await register.append({ ts: iso(start), type: 'transition', dispatch_id: d.id, state: 'queued' });
      await register.append({ ts: iso(start + 1), type: 'transition', dispatch_id: d.id, state: 'running', worker: d.worker });
      await receipts.append({ ts: iso(start + 2), type: 'task_started', dispatch_id: d.id, worker: d.worker });
      await receipts.append({ ts: iso(end), type: 'task_complete', dispatch_id: d.id, worker: d.worker, started_at: iso(start + 2), duration_ms: d.durationMs });
      for (const g of d.gates) await audit.append({ ts: iso(end + 1), type: 'gate', dispatch_id: d.id, gate: g.gate, result: g.result });
      await audit.append({ ts: iso(end + 2), type: 'decision', dispatch_id: d.id, result: d.gates.some((g) => g.result === 'fail') ? 'reject' : 'accept' });
      if (d.terminal) await register.append({ ts: iso(end + 3), type: 'transition', dispatch_id: d.id, state: d.terminal });
    }
  } finally {
    await Promise.all([receipts.close(), audit.close(), register.close()]);
  }
}
