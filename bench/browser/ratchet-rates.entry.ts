/** Bundled by workloads/crypto-browser.ts and run in Chromium: exposes the rates to the page. */
import { measureRatchetRates } from '../workloads/ratchet-rates.ts';

(globalThis as { duetRatchetRates?: typeof measureRatchetRates }).duetRatchetRates = measureRatchetRates;
