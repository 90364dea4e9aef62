/** What the browser tests of files share: picking from disk, finding a file's card, downloading. */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

export const MiB = 1024 * 1024;

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Big files go to the page from disk (Playwright copies buffers through the protocol). */
export function onDisk(name: string, bytes: Buffer): string {
  const path = join(mkdtempSync(join(tmpdir(), 'duet-e2e-files-')), name);
  writeFileSync(path, bytes);
  return path;
}

export const fileCard = (page: Page, direction: 'in' | 'out', name: string) =>
  page
    .locator(`[data-testid="file"][data-direction="${direction}"]`)
    .filter({ has: page.getByTestId('file-name').getByText(name, { exact: true }) });

export async function waitForFileState(page: Page, direction: 'in' | 'out', name: string, state: string) {
  await fileCard(page, direction, name)
    .and(page.locator(`[data-state="${state}"]`))
    .waitFor({ timeout: 60_000 });
}

/** Clicks the file's download link and returns the downloaded bytes and the name it was saved under. */
export async function download(
  page: Page,
  name: string,
): Promise<{ bytes: Buffer; savedAs: string; href: string }> {
  const link = fileCard(page, 'in', name).getByTestId('file-download');
  const href = (await link.getAttribute('href')) ?? '';
  const [downloaded] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const path = await downloaded.path();
  return { bytes: readFileSync(path), savedAs: downloaded.suggestedFilename(), href };
}
