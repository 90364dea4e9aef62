/**
 * Cuts on slow links: two clients chat through a proxy that adds one-way latency and cuts one
 * of their links every 0.5-2 s (seeded), while each sends its messages spread over the run.
 * Every message must arrive exactly once, in order, be confirmed, and no side may fail.
 */
import { runCutCampaign } from '../../server/test/support/campaign.ts';
import { startTestServer } from '../../server/test/support/servers.ts';
import type { PartOptions, PartResult } from './part.ts';

export interface CutsOptions extends PartOptions {
  latencyMs: number;
  messages: number;
  seed: number;
}

export async function cuts(options: CutsOptions): Promise<PartResult> {
  // Default limits: the clients pace themselves to the relay's rate.
  const server = await startTestServer({ logLevel: 'warn' });
  try {
    const result = await runCutCampaign({
      targetPort: server.port,
      seed: options.seed,
      latencyMs: options.latencyMs,
      cutEveryMs: [500, 2_000],
      durationMs: options.budgetMs,
      messages: options.messages,
      room: `cuts-${options.latencyMs}`,
      drainMs: 120_000,
    });
    const { alice: a, bob: b } = result;
    const perfect = (t: typeof a) =>
      t.lost === 0 &&
      t.doubled === 0 &&
      t.outOfOrder === 0 &&
      t.delivered === t.sent &&
      t.failed === 0 &&
      t.fatal.length === 0;
    return {
      ok: perfect(a) && perfect(b),
      figures: {
        'one-way latency (ms)': options.latencyMs,
        'messages each way': a.sent,
        cuts: result.cuts,
        reconnections: result.reconnections,
        'lost (a→b, b→a)': `${a.lost}, ${b.lost}`,
        doubled: a.doubled + b.doubled,
        'out of order': a.outOfOrder + b.outOfOrder,
        'delivered (a, b)': `${a.delivered}, ${b.delivered}`,
        'marked failed': a.failed + b.failed,
        'failed conversations': [...a.fatal, ...b.fatal].join(' ') || 0,
        'rate-limited told': result.rateLimited,
        'seconds to the last receipt': Math.round(result.elapsedMs / 100) / 10,
      },
    };
  } finally {
    await server.close();
  }
}
