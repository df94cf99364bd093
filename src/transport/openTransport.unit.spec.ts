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
    expect(() => parsePlan({ transport: { kind: 'redis', port: 1 } })).toThrow(/takes only kind, url and store/);
    const bare = parsePlan({ writers: ['a'] });
    expect(planSha256(parsePlan({ writers: ['a'], transport: { kind: 'redis', url: 'redis://h1:6379', store: 's' } }))).toBe(planSha256(bare));
    expect(planSha256(parsePlan({ writers: ['b'] }))).not.toBe(planSha256(bare));
  });
});
