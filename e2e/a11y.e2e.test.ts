/**
 * axe (WCAG 2.1 A and AA rules) on every state of the walk-through, each in light and dark, at
 * 1280×800 and at 390×844: zero violations. One walk; at each state the same page is scanned
 * four ways by switching its colour scheme and viewport, so the suite stays quick.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { axeScan } from './axe.ts';
import { useHarness } from './harness.ts';
import { walkThrough, type StateName } from './walkthrough.ts';

const harness = useHarness();

const VIEWPORTS = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
];
const SCHEMES = ['light', 'dark'] as const;

interface Finding {
  where: string;
  rule: string;
  nodes: string[];
}

/** Rules that ran and passed, over all scans: proof that axe looked at something. */
let passed = 0;

async function scan(page: Page, where: string): Promise<Finding[]> {
  const findings: Finding[] = [];
  const size = page.viewportSize() ?? VIEWPORTS[0]!;
  for (const viewport of VIEWPORTS) {
    await page.setViewportSize(viewport);
    for (const colorScheme of SCHEMES) {
      await page.emulateMedia({ colorScheme });
      const result = await axeScan(page);
      passed += result.passes.length;
      for (const violation of result.violations) {
        findings.push({
          where: `${where} ${viewport.width}px ${colorScheme}`,
          rule: violation.id,
          nodes: violation.nodes.map((node) => `${node.target.join(' ')}: ${node.failureSummary ?? ''}`),
        });
      }
    }
  }
  await page.setViewportSize(size);
  await page.emulateMedia({ colorScheme: 'light' });
  return findings;
}

describe('accessibility', () => {
  it('every state passes axe (WCAG 2.1 A/AA) in light and dark, on a desktop and a phone', async () => {
    const findings: Finding[] = [];
    const seen: StateName[] = [];
    await walkThrough(
      harness(),
      async (state, pages) => {
        seen.push(state);
        for (const [i, page] of pages.entries()) findings.push(...(await scan(page, `${state}[${i}]`)));
      },
      { viewport: VIEWPORTS[0] },
    );
    expect(seen).toEqual([
      'start',
      'share-panel',
      'joiner-view',
      'mismatch',
      'waiting',
      'partner-retried',
      'secure-chat',
      'leave-confirm',
      'partner-left',
      'refused',
      'closed',
      'des-chat',
    ]);
    expect(findings).toEqual([]);
    expect(passed).toBeGreaterThan(100);
  }, 180_000);
});
