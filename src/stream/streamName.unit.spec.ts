import { describe, expect, it } from 'vitest';
import { assertStreamName, isStreamName } from './streamName.js';
import { streamPaths } from './streamPaths.js';

describe('stream names', () => {
  it('accepts 1–128 chars of [A-Za-z0-9._-]', () => {
    for (const ok of ['receipts', 'audit.gov', 'a', 'A-b_c.9', '.hidden', '...', 'x'.repeat(128)]) expect(isStreamName(ok), ok).toBe(true);
  });

  it('refuses traversal, separators, empty and long names', () => {
    for (const bad of ['', '.', '..', '../x', 'a/b', 'a\\b', 'x'.repeat(129), 'a b', 'é', 'a\0b', 'nul\n']) {
      expect(isStreamName(bad), JSON.stringify(bad)).toBe(false);
      expect(() => assertStreamName(bad)).toThrow(/stream name .* is not allowed/);
    }
  });

  it('places a stream under streams/ of the store', () => {
    const p = streamPaths('/s', 'receipts');
    expect(p.file).toBe('/s/streams/receipts.ndjson');
    expect(p.quarantineDir).toBe('/s/quarantine/streams');
    expect(p.relativeFile).toBe('streams/receipts.ndjson');
    expect(() => streamPaths('/s', '..')).toThrow();
  });
});
