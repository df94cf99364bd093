import { describe, expect, it } from 'vitest';
import { parsePlan } from '../delta/plan.js';
import { planSha256 } from '../store/storeContext.js';
import { planTransportSection, resolveTransportConfig } from './openTransport.js';

const noEnv = {};

describe('resolveTransportConfig', () => {
  it('takes each setting from flags, then the environment, then the plan, then the default', () => {
    const plan = { kind: 'redis', url: 'redis://cache:6379', store: 'fleet' };
    expect(resolveTransportConfig({}, noEnv)).toEqual({ transport: 'fs', url: undefined });
    expect(resolveTransportConfig({}, noEnv, plan)).toEqual({ transport: 'redis', url: 'redis://cache:6379', store: 'fleet' });
    expect(resolveTransportConfig({}, { FRAMELOG_STORE: 'other' }, plan)).toEqual({ transport: 'redis', url: 'redis://cache:6379', store: 'other' });
    expect(resolveTransportConfig({ url: 'redis://b:1' }, { FRAMELOG_URL: 'redis://a:1' }, plan)).toEqual({ transport: 'redis', url: 'redis://b:1', store: 'fleet' });
    // Another transport on the command line: the plan's URL and store belong to its own transport only.
    expect(resolveTransportConfig({ transport: 'fs' }, noEnv, plan)).toEqual({ transport: 'fs', url: undefined });
    expect(() => resolveTransportConfig({ transport: 'nats' }, noEnv, plan)).toThrow(/--transport nats needs --store NAME .*or transport.store in framelog.json/);
    expect(resolveTransportConfig({}, noEnv, { kind: 'git', url: '/srv/fleet.git' })).toEqual({ transport: 'git', url: '/srv/fleet.git' });
    expect(() => resolveTransportConfig({}, noEnv, { kind: 'carrier-pigeon' })).toThrow(/^framelog.json: transport.kind carrier-pigeon: unknown transport/);
  });

  it('replicas (nats, kafka): the flag, then the store\'s record, then the environment; init records them (#19 point 3)', () => {
    const plan = { kind: 'nats', url: 'nats://a:4222', store: 'fleet', replicas: 3 };
    expect(resolveTransportConfig({}, { FRAMELOG_NATS_REPLICAS: '1' }, plan).replicas).toBe(3); // the store's record wins over a stray environment
    expect(resolveTransportConfig({ replicas: 5 }, noEnv, plan).replicas).toBe(5);
    expect(resolveTransportConfig({}, { FRAMELOG_NATS_REPLICAS: '3' }, { kind: 'nats', store: 'old' }).replicas).toBe(3); // a store made before they were recorded
    expect(resolveTransportConfig({}, noEnv, { kind: 'nats', store: 'old' })).not.toHaveProperty('replicas');
    expect(resolveTransportConfig({ transport: 'kafka', store: 's' }, { FRAMELOG_KAFKA_REPLICAS: '3', FRAMELOG_NATS_REPLICAS: '2' }).replicas).toBe(3);
    expect(() => resolveTransportConfig({ transport: 'nats', store: 's' }, { FRAMELOG_NATS_REPLICAS: 'three' })).toThrow(/^FRAMELOG_NATS_REPLICAS three: must be a whole number from 1 to 5/);
    expect(() => resolveTransportConfig({ transport: 'redis', store: 's', replicas: 3 }, noEnv)).toThrow(/--replicas applies to nats and kafka only \(not redis\)/);
    expect(planTransportSection(resolveTransportConfig({ transport: 'nats', url: 'nats://a:4222', store: 'fleet' }, { FRAMELOG_NATS_REPLICAS: '3' }))).toEqual(plan);
  });

  it('planTransportSection: what transport init writes; no password, a local git remote made absolute', () => {
    expect(planTransportSection({ transport: 'postgres', url: 'postgres://app:s3cret@db:5432/x', store: 'fleet' })).toEqual({ kind: 'postgres', url: 'postgres://app@db:5432/x', store: 'fleet' });
    expect(planTransportSection({ transport: 'git', url: 'remotes/fleet.git' }).url).toBe(`${process.cwd()}/remotes/fleet.git`);
    expect(planTransportSection({ transport: 'git', url: 'git@host:team/fleet.git' }).url).toBe('git@host:team/fleet.git');
    expect(planTransportSection({ transport: 'git', url: 'https://host/team/fleet.git' }).url).toBe('https://host/team/fleet.git');
  });
});

describe('the plan\'s transport section', () => {
  it('is checked, refuses a password, and stays out of the plan\'s hash', () => {
    expect(parsePlan({ transport: { kind: 'nats', url: 'nats://a:4222', store: 'fleet' } }).transport).toEqual({ kind: 'nats', url: 'nats://a:4222', store: 'fleet' });
    expect(() => parsePlan({ transport: { kind: 'redis', url: 'redis://u:pw@a:6379' } })).toThrow(/^framelog.json: transport.url: holds a password/);
    expect(() => parsePlan({ transport: { kind: 'redis', store: 'a/b' } })).toThrow(/^framelog.json: transport.store: must be 1 to 48/);
    expect(() => parsePlan({ transport: { kind: 'redis', port: 1 } })).toThrow(/takes only kind, url, store, replicas and requireDurable/);
    expect(parsePlan({ transport: { kind: 'redis', store: 's', requireDurable: true } }).transport).toEqual({ kind: 'redis', store: 's', requireDurable: true });
    expect(() => parsePlan({ transport: { kind: 'redis', requireDurable: 'yes' } })).toThrow(/transport.requireDurable: must be true or false/);
    expect(parsePlan({ transport: { kind: 'nats', store: 'fleet', replicas: 3 } }).transport).toEqual({ kind: 'nats', store: 'fleet', replicas: 3 });
    expect(() => parsePlan({ transport: { kind: 'nats', replicas: 7 } })).toThrow(/^framelog.json: transport.replicas: must be a whole number from 1 to 5/);
    expect(() => parsePlan({ transport: { kind: 'redis', replicas: 3 } })).toThrow(/transport.replicas: applies to nats and kafka only \(not redis\)/);
    const bare = parsePlan({ writers: ['a'] });
    expect(planSha256(parsePlan({ writers: ['a'], transport: { kind: 'redis', url: 'redis://h1:6379', store: 's' } }))).toBe(planSha256(bare));
    expect(planSha256(parsePlan({ writers: ['b'] }))).not.toBe(planSha256(bare));
  });
});
