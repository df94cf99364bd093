import { FramelogError } from '../errors.js';
import { lineHash, readJournal } from '../store/history/journalFile.js';
import { PlanHistory } from '../store/planHistory.js';
import { importMergeBundle, storeHead } from '../store/replication/importMergeBundle.js';
import { decodeMergeBundle, encodeMergeBundle, exportMergeBundles, type MergeBundle } from '../store/replication/mergeBundle.js';
import { rewindStore } from '../store/replication/rewindStore.js';
import type { StoreContext } from '../store/storeContext.js';
import type { MergerLease, PublishedMerge, Failover } from './transport.js';

/** What {@link syncWithPublished} did to bring the local store and the published history together. */
export interface SyncOutcome {
  /** Merges another merger published, applied to this store. */
  imported: number;
  /** Merges this store holds that were not published yet (a crash between commit and publish), published now. */
  published: number;
  /** Frames this store had merged on its own while another merger held the lease, taken back (their deltas returned to the inbox). */
  rewound: number[];
}

/** A transport that publishes merges. */
type Publishing = Pick<Failover, 'publishMerges' | 'publishedHead' | 'readMerges'>;

/** The published form of a bundle. */
export function toPublished(b: MergeBundle): PublishedMerge {
  return { index: b.index, frame: b.frame, recordSha256: lineHash(b.record), bundle: encodeMergeBundle(b) };
}

const PUBLISH_CHUNK = 64;

/**
 * Publishes bundles in order, a chunk per call, removing each chunk from `bundles` once it is
 * published (so a failed call leaves exactly what is still to publish). A call whose reply was
 * lost but which did publish (the next attempt finds its merges already at the head) counts as done.
 */
export async function publishBundles(t: Publishing, bundles: MergeBundle[], lease: MergerLease): Promise<void> {
  while (bundles.length > 0) {
    const chunk = bundles.slice(0, PUBLISH_CHUNK).map(toPublished);
    let done = chunk.length;
    try {
      await t.publishMerges(chunk, lease);
    } catch (e) {
      if ((e as { code?: string }).code !== 'diverged') throw e;
      // A call whose reply was lost, or a transport that published part of a chunk: skip what is
      // already at the head, if it is ours.
      const head = await t.publishedHead();
      const at = head ? head.index - chunk[0].index : -1;
      if (!head || at < 0 || at >= chunk.length || chunk[at].recordSha256 !== head.recordSha256) throw e;
      done = at + 1;
    }
    bundles.splice(0, done);
  }
}

/**
 * Brings this merger's store and the merges published in the transport into one history, before
 * the merger merges anything (it holds the lease and the store's lock, recovery done):
 * - the published history is ahead (another host merged while this one was down): its merges are
 *   applied here, byte for byte;
 * - this store is ahead (it died between committing a merge and publishing it): they are published;
 * - both went on from a common merge (this merger lost its lease and merged on its own): its own
 *   merges after that point are taken back (their deltas return to the inbox; the transport still
 *   holds every one it did not acknowledge) and the published ones applied.
 */
export async function syncWithPublished(ctx: StoreContext, t: Publishing, lease: MergerLease): Promise<SyncOutcome> {
  const out: SyncOutcome = { imported: 0, published: 0, rewound: [] };
  const local = readJournal<{ frame: number }>(ctx.layout.merges, 'journal/merges.ndjson');
  const localSha = (i: number): string => lineHash(local[i - 1].text);
  const head = await t.publishedHead();
  const n = local.length;
  /** The first published merge at or after index `i`, if any (merges before the kept ones were trimmed). */
  const publishedFrom = async (i: number): Promise<PublishedMerge | undefined> => {
    for await (const m of t.readMerges(i)) return m;
    return undefined;
  };
  /** Whether this store's merge `i` is the one published merge `m` follows (`i` = `m.index` − 1). */
  const precedes = (i: number, m: PublishedMerge): boolean => i === 0 || (i <= n && prevOf(m) === localSha(i));

  let common: number;
  if (!head) common = 0;
  else if (head.index <= n) common = localSha(head.index) === head.recordSha256 ? head.index : -1;
  else if (n === 0) common = 0;
  else {
    const m = await publishedFrom(n);
    if (!m || m.index > n + 1) throw trimmedPast(n, m?.index ?? head.index);
    common = (m.index === n ? m.recordSha256 === localSha(n) : precedes(n, m)) ? n : -1;
  }

  if (common < 0) {
    // Diverged: the longest common prefix (a rare path: one pass over the published history). With
    // merges trimmed, it must start at or after the oldest one kept, or nothing can be taken back safely.
    common = -1;
    for await (const m of t.readMerges(1)) {
      if (common < 0) {
        if (!precedes(m.index - 1, m)) throw trimmedPast(n, m.index);
        common = m.index - 1;
      }
      if (m.index > n || m.recordSha256 !== localSha(m.index)) break;
      common = m.index;
    }
    common = Math.max(0, common);
    out.rewound = rewindStore(ctx, common);
  }
  if (head && head.index > common) {
    let at = storeHead(ctx);
    for await (const m of t.readMerges(common + 1)) {
      if (out.imported === 0 && m.index > common + 1) throw trimmedPast(common, m.index);
      const b = decodeMergeBundle(m.bundle, `published merge ${m.index}`);
      if (b.index !== m.index) throw new FramelogError(`published merge ${m.index} holds the bundle of merge ${b.index}`, 'bad-bundle');
      at = importMergeBundle(ctx, b, at);
      out.imported++;
    }
    if (at.index < head.index) throw new FramelogError(`the transport's published merges end at ${at.index}, but its head says ${head.index}`, 'diverged');
  } else if (n > common) {
    const bundles = exportMergeBundles(ctx, common + 1);
    await publishBundles(t, bundles, lease);
    out.published = bundles.length;
  }
  assertPlanCurrent(ctx);
  return out;
}

/** The `prev` of a published merge's record (the hash of the record before it). */
function prevOf(m: PublishedMerge): string | undefined {
  const record = decodeMergeBundle(m.bundle, `published merge ${m.index}`).record;
  try {
    return (JSON.parse(record) as { prev?: string }).prev;
  } catch {
    throw new FramelogError(`published merge ${m.index}: its record is not JSON`, 'bad-bundle');
  }
}

/** FramelogError `trimmed`: the published merges this store needs next were deleted. */
function trimmedPast(held: number, oldestKept: number): FramelogError {
  return new FramelogError(
    `this store holds ${held} merges, but the transport keeps published merges only from merge ${oldestKept} on (older ones were trimmed): it cannot catch up from the transport; ` +
      `seed it from an up-to-date merger host's store (framelog copy DEST --dir THAT_STORE, safe while it merges), then start this merger on the copy`,
    'trimmed',
  );
}

/**
 * Refuses (FramelogError `plan-mismatch`) to merge under a plan the store's history has moved past:
 * a standby host whose `framelog.json` is an older plan than the one the merges it just imported
 * ran under would otherwise merge the next frames with the old item keys and shape, silently
 * changing the plan back. A plan the history never held is a plan change, recorded by the next
 * merge as on a single host.
 */
export function assertPlanCurrent(ctx: StoreContext): void {
  const replaced = PlanHistory.load(ctx).replacementOf(ctx.planSha256);
  if (!replaced) return;
  throw new FramelogError(
    `this merger's plan (framelog.json, sha256 ${ctx.planSha256.slice(0, 12)}) was replaced from merge ${replaced.from} on by plan ${replaced.sha256.slice(0, 12)}, and merging under it would change the store's plan back; ` +
      `bring this host's framelog.json up to date (the store's current plan: tail -n 1 journal/plans.ndjson | jq .plan) and start the merger again`,
    'plan-mismatch',
  );
}
