import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (apt-get install -y chromium); browser downloads do not work here. */
export const CHROMIUM = process.env.FRAMELOG_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Whether the browser tests can run. Without Chromium they skip with a line saying how to get it,
 * except under CI=true, where a missing Chromium is a failure.
 */
export function chromiumAvailable(): boolean {
  if (fs.existsSync(CHROMIUM)) return true;
  const line = `viewer browser tests: no Chromium at ${CHROMIUM}: apt-get install -y chromium`;
  if (process.env.CI === 'true') throw new Error(`${line} (CI=true: required)`);
  process.stdout.write(`${line} (skipped)\n`);
  return false;
}

/** Headless Chromium with a fresh profile; `close()` removes the profile. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'framelog-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** What a test reads of one row of a virtual list. */
export interface DomRow {
  index: number;
  data: Record<string, string>;
  cells: string[];
}

/**
 * Every row of the virtual list `[data-testid=testid]`, read from the DOM: scrolls it from top to
 * bottom (a virtual list holds only the rows in view), waiting for pages that load on demand.
 */
export async function collectRows(page: Page, testid: string): Promise<DomRow[]> {
  return page.evaluate(async (id) => {
    const box = document.querySelector(`[data-testid="${id}"]`) as HTMLElement;
    const frame = (): Promise<void> => new Promise((r) => requestAnimationFrame(() => r()));
    const rows = new Map<number, { index: number; data: Record<string, string>; cells: string[] }>();
    const total = (): number => Number(box.dataset.total);
    box.scrollTop = 0;
    for (let guard = 0; guard < 100_000; guard++) {
      await frame();
      await frame();
      for (let w = 0; w < 200 && box.querySelector('.vl-loading'); w++) await new Promise((r) => setTimeout(r, 20));
      for (const r of box.querySelectorAll<HTMLElement>('.vl-rows > [data-index]')) {
        if (r.classList.contains('vl-loading')) continue;
        const data: Record<string, string> = {};
        for (const a of r.getAttributeNames()) if (a.startsWith('data-')) data[a.slice(5)] = r.getAttribute(a) ?? '';
        rows.set(Number(r.dataset.index), { index: Number(r.dataset.index), data, cells: [...r.children].map((c) => c.textContent ?? '') });
      }
      if (box.scrollTop + box.clientHeight >= box.scrollHeight - 1 || rows.size >= total()) {
        if (rows.size >= total()) break;
      }
      const before = box.scrollTop;
      box.scrollTop = before + Math.max(20, Math.floor(box.clientHeight / 2));
      if (box.scrollTop === before && rows.size < total()) await new Promise((r) => setTimeout(r, 20));
    }
    return [...rows.values()].sort((a, b) => a.index - b.index);
  }, testid);
}

/** Saves a screenshot of the page under test-results/viewer/. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const file = path.join('test-results', 'viewer', `${name}.png`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: false });
  return file;
}
