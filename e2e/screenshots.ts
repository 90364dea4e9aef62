/**
 * `npm run screenshots`: walks through Duet's states in Chromium and saves pictures.
 *
 *   npm run screenshots            the two pictures the README shows, in docs/img/
 *   npm run screenshots -- --all   every state, light and dark, 1280×800 and 390×844, in
 *                                  screenshots/ (not committed), to look at before a release
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startHarness } from './harness.ts';
import { walkThrough, type StateName } from './walkthrough.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const all = process.argv.includes('--all');
const outDir = all ? `${root}screenshots` : `${root}docs/img`;
mkdirSync(outDir, { recursive: true });

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

/** The README's pictures: a phone inviting a partner, and a desktop conversation. */
const README: Partial<Record<StateName, { file: string; viewport: typeof PHONE; page: number }>> = {
  'share-panel': { file: 'share-panel-phone.png', viewport: PHONE, page: 0 },
  'secure-chat': { file: 'secure-chat-desktop.png', viewport: DESKTOP, page: 1 },
};

async function shoot(
  page: Page,
  viewport: typeof PHONE,
  scheme: 'light' | 'dark',
  path: string,
): Promise<void> {
  const before = page.viewportSize() ?? DESKTOP;
  await page.setViewportSize(viewport);
  await page.emulateMedia({ colorScheme: scheme });
  await page.screenshot({ path, animations: 'disabled', caret: 'hide' });
  await page.setViewportSize(before);
  await page.emulateMedia({ colorScheme: 'light' });
}

const harness = await startHarness();
try {
  await walkThrough(
    harness,
    async (state, pages) => {
      if (!all) {
        const wanted = README[state];
        const page = wanted && pages[wanted.page];
        if (wanted && page) await shoot(page, wanted.viewport, 'light', `${outDir}/${wanted.file}`);
        return;
      }
      for (const [i, page] of pages.entries()) {
        for (const viewport of [DESKTOP, PHONE]) {
          for (const scheme of ['light', 'dark'] as const) {
            await shoot(page, viewport, scheme, `${outDir}/${state}-${i}-${viewport.width}-${scheme}.png`);
          }
        }
      }
    },
    { viewport: DESKTOP },
  );
  console.log(`screenshots written to ${outDir}`);
} finally {
  await harness.close();
}
