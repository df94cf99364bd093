import { describe, expect, it } from 'vitest';
import type { StreamRecord } from '../stream/index.js';
import { registerProjection, type RegisterView } from './registerProjection.js';

const project = (records: Array<Record<string, unknown>>): RegisterView =>
  records.reduce<RegisterView>((v, r) => registerProjection.evolve(v, r as StreamRecord, 'register'), registerProjection.initialState());

describe('the register view', () => {
  it('reads transitions as written, the last one winning', () => {
    const v = project([
      { ts: 't1', type: 'transition', dispatch_id: 'd-1', state: 'queued', worker: 'T1' },
      { ts: 't2', type: 'transition', dispatch_id: 'd-1', state: 'done' },
      { ts: 't3', type: 'transition', dispatch_id: '__proto__', state: 'queued' },
    ]);
    expect(v.dispatches['d-1']).toEqual({ state: 'done', since: 't2', worker: 'T1', transitions: 2 });
    expect(Object.keys(v.dispatches)).toEqual(['d-1', '__proto__']);
  });

  it('reads orchestrator (VNX-shaped) events: created, started, gates, completed, failed', () => {
    const v = project([
      { ts: 't1', type: 'dispatch_created', dispatch_id: 'd-7', terminal: 'T2' },
      { ts: 't2', type: 'dispatch_started', dispatch_id: 'd-7' },
      { ts: 't3', type: 'gate_failed', dispatch_id: 'd-7', gate: 'tests' },
      { ts: 't4', type: 'gate_passed', dispatch_id: 'd-7', gate: 'review' },
      { ts: 't5', type: 'dispatch_completed', dispatch_id: 'd-7' },
      { ts: 't1', type: 'dispatch_created', dispatch_id: 'd-8', worker: 'T1' },
      { ts: 't6', type: 'dispatch_failed', dispatch_id: 'd-8' },
      { ts: 't7', type: 'dispatch_paused', dispatch_id: 'd-9' },
      { ts: 't8', type: 'note', dispatch_id: 'd-9', text: 'not a state' },
    ]);
    expect(v.dispatches['d-7']).toEqual({ state: 'completed', since: 't5', worker: 'T2', transitions: 5 });
    expect(v.dispatches['d-8']).toMatchObject({ state: 'failed', worker: 'T1', transitions: 2 });
    expect(v.dispatches['d-9']).toMatchObject({ state: 'paused', transitions: 1 });
  });

  it('reads agent lifecycles (framelog demo fleet): each start or restart is a dispatch agent@frame, ended by its crash or stop', () => {
    const v = project([
      { ts: 't1', type: 'lifecycle', agent: 'agent-0', event: 'start', frame: 1, pid: 10 },
      { ts: 't1', type: 'lifecycle', agent: 'agent-1', event: 'start', frame: 1, pid: 11 },
      { ts: 't2', type: 'lifecycle', agent: 'agent-1', event: 'crash', frame: 5, signal: 'SIGKILL' },
      { ts: 't3', type: 'lifecycle', agent: 'agent-1', event: 'restart', frame: 6, pid: 12 },
      { ts: 't4', type: 'lifecycle', agent: 'agent-0', event: 'stop', frame: 12 },
    ]);
    expect(v.dispatches).toEqual({
      'agent-0@1': { state: 'stopped', since: 't4', worker: 'agent-0', transitions: 2 },
      'agent-1@1': { state: 'crashed', since: 't2', worker: 'agent-1', transitions: 2 },
      'agent-1@6': { state: 'running', since: 't3', worker: 'agent-1', transitions: 1 },
    });
    expect(v.agents).toEqual({
      'agent-0': { dispatch: 'agent-0@1', state: 'stopped', since: 't4', lives: 1 },
      'agent-1': { dispatch: 'agent-1@6', state: 'running', since: 't3', lives: 2 },
    });
  });
});
