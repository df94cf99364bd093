import { describe, expect, it } from 'vitest';
import { parseStatus, strayChanges } from './strayChanges.js';

const st = (...entries: string[]) => parseStatus(entries.map((e) => e + '\0').join(''));

describe('strayChanges', () => {
  it('accepts what merges do: moves into the archive of recorded frames, quarantine, new inbox files', () => {
    expect(strayChanges(st(' D inbox/frame-000003.w1.0.aa.json', '?? archive/merge-000000003/frame-000003.w1.0.aa.json', ' D inbox/bad.json', '?? quarantine/bad.json', '?? quarantine/bad.json.why.json', '?? inbox/frame-000004.w1.0.bb.json'), 3)).toEqual([]);
  });
  it('names an archive of an unrecorded frame, a deleted archived file, and an inbox file deleted without landing anywhere', () => {
    expect(strayChanges(st(' D inbox/frame-000003.w1.0.aa.json', '?? archive/merge-000000003/frame-000003.w1.0.aa.json'), 2)).toEqual(['archive/merge-000000003/frame-000003.w1.0.aa.json: archived by no recorded merge (the journal ends at frame 2)']);
    expect(strayChanges(st(' D archive/merge-000000001/frame-000001.w1.0.aa.json'), 5)).toEqual(['archive/merge-000000001/frame-000001.w1.0.aa.json: an archived delta deleted (the archive only grows)']);
    expect(strayChanges(st(' D inbox/frame-000009.w2.0.cc.json'), 5)).toEqual(['inbox/frame-000009.w2.0.cc.json: deleted, but not in the archive or the quarantine']);
  });
});
