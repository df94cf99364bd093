import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/delta/canonicalJson.js';
import type { JsonValue } from '../../src/delta/types.js';
import { toState } from '../../src/merge/canonicalState.js';
import { loadStateAt } from '../../src/store/history/stateAt.js';
import { openStoreContext } from '../../src/store/storeContext.js';
import { createServer, type FramelogServer } from '../../src/server/createServer.js';
import { bigTempDir, buildBigStore } from './bigStore.js';
import { chromiumAvailable, launchBrowser, screenshot } from './browser.js';

const FRAMES = Number(process.env.FRAMELOG_VIEWER_FRAMES ?? 100_000);
const SAMPLES = 40;
const enabled = chromiumAvailable();

let base: string, dir: string, server: FramelogServer, url: string, build: { seconds: number };
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;

/**
 * Milliseconds from moving the scrubber to `frame` (value set, input event, as a drag does) to
 * the page showing that frame's state (heading updated, tree rebuilt, then one painted frame).
 */
function scrubLatency(p: Page, frame: number, view: 'state' | 'writers'): Promise<number> {
  return p.evaluate(({ frame, view }) => new Promise<number>((resolve) => {
    const scrubber = document.querySelector('[data-testid=scrubber]') as HTMLInputElement;
    const done = (): boolean => view === 'state'
      ? document.querySelector(`[data-testid=state-frame][data-frame="${frame}"]`) !== null
      : document.querySelector(`[data-testid=lanes][data-frame="${frame}"]`) !== null;
    const t0 = performance.now();
    const obs = new MutationObserver(() => {
      if (!done()) return;
      obs.disconnect();
      requestAnimationFrame(() => resolve(performance.now() - t0));
    });
    obs.observe(document.body, { subtree: true, childList: true, attributes: true });
    scrubber.value = String(frame);
    scrubber.dispatchEvent(new Event('input', { bubbles: true }));
  }), { frame, view });
}

const p95 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.95) - 1];

describe.skipIf(!enabled)(`viewer on a ${FRAMES.toLocaleString('en')}-frame store`, () => {
  beforeAll(async () => {
    base = bigTempDir('framelog-viewer-big-');
    dir = path.join(base, 'store');
    build = await buildBigStore(dir, FRAMES, 1);
    process.stdout.write(`built a ${FRAMES}-frame store in ${build.seconds.toFixed(1)} s (${dir})\n`);
    server = createServer({ dir, port: 0 });
    url = await server.listen();
    browser = await launchBrowser();
    page = await browser.context.newPage();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  it('p95 from moving the scrubber to the new state shown is under 500 ms', async () => {
    await page.goto(`${url}/?view=state&frame=1&expand=all`);
    await page.waitForSelector('[data-testid=state-frame][data-frame="1"]');
    expect(await page.getAttribute('[data-testid=scrubber]', 'max')).toBe(String(FRAMES));
    // Frames spread over the whole history, none on a snapshot (each costs a replay of up to 99 merges).
    const frames = Array.from({ length: SAMPLES }, (_, i) => 1 + ((i * 7919 + 4243) % (FRAMES - 1)));
    const times: number[] = [];
    for (const f of frames) times.push(await scrubLatency(page, f, 'state'));
    const ctx = openStoreContext(dir);
    for (const f of frames.slice(0, 3)) {
      await scrubLatency(page, f, 'state');
      await page.click('[data-testid=raw-toggle]');
      expect(await page.textContent('[data-testid=state-raw]')).toBe(canonicalJson(toState(loadStateAt(ctx, f)) as unknown as JsonValue));
      await page.click('[data-testid=raw-toggle]');
    }
    const result = { frames: FRAMES, buildSeconds: Number(build.seconds.toFixed(1)), samples: times.length, p50: Math.round([...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]), p95: Math.round(p95(times)), max: Math.round(Math.max(...times)) };
    process.stdout.write(`scrub → state shown: ${JSON.stringify(result)}\n`);
    fs.mkdirSync('test-results/viewer', { recursive: true });
    fs.writeFileSync('test-results/viewer/scrub-latency.json', JSON.stringify({ ...result, times: times.map((t) => Math.round(t)) }, null, 2) + '\n');
    await screenshot(page, 'state-100k');
    expect(result.p95).toBeLessThan(500);
  });

  it('the writer swimlanes follow the scrubber too (p95 under 500 ms)', async () => {
    await page.goto(`${url}/?view=writers&frame=${FRAMES}`);
    await page.waitForSelector(`[data-testid=lanes][data-frame="${FRAMES}"]`);
    const times: number[] = [];
    for (let i = 0; i < 20; i++) times.push(await scrubLatency(page, 1 + ((i * 4099 + 17) % (FRAMES - 1)), 'writers'));
    process.stdout.write(`scrub → swimlanes shown: p95 ${Math.round(p95(times))} ms\n`);
    await screenshot(page, 'writers-100k');
    expect(p95(times)).toBeLessThan(500);
  });
});
