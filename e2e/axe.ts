/**
 * axe-core's WCAG 2.1 A and AA rules on a page, as it is now. Legacy mode runs axe in the page
 * itself: the default mode opens a blank page to assemble the results of every frame (about half
 * a second a scan here), and Duet's pages have no frames.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';

const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

export function axeScan(page: Page): ReturnType<AxeBuilder['analyze']> {
  return new AxeBuilder({ page }).withTags(WCAG_TAGS).setLegacyMode().analyze();
}
