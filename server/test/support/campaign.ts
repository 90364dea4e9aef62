/**
 * A cut campaign: two clients chat through a proxy that adds latency and cuts one of their
 * links at random times, while each sends its messages spread evenly over the campaign. Then
 * the cuts stop and every message must arrive. Shared by the fault test (CI sizes) and
 * `npm run soak` (the long version); both judge the figures it returns.
 */
import { startNodeClient, type NodeClient } from '@duet/cli/node-client';
import { bothReady, tally, waitFor, type Tally } from './chat.ts';
import { startFaultProxy } from './fault-proxy.ts';

export interface CampaignOptions {
  /** The relay's port. */
  targetPort: number;
  seed: number;
  latencyMs: number;
  /** A link is cut after every random interval in this range... */
  cutEveryMs: [min: number, max: number];
  /** ...for this long, while the messages go out. */
  durationMs: number;
  /** Messages each way. */
  messages: number;
  room: string;
  /** How long the last messages may take to arrive once the cuts stop, before the run is judged. */
  drainMs: number;
}

export interface CampaignResult {
  alice: Tally;
  bob: Tally;
  cuts: number;
  /** Times a side went to `reconnecting`. */
  reconnections: number;
  /** `rate-limited` errors either side was told. */
  rateLimited: number;
  /** From the first message to the last receipt, or to the end of the drain (ms). */
  elapsedMs: number;
}

const TICK_MS = 100;

export async function runCutCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const proxy = await startFaultProxy({
    targetPort: options.targetPort,
    seed: options.seed,
    latencyMs: options.latencyMs,
  });
  const clients: NodeClient[] = [];
  try {
    const common = {
      url: proxy.url,
      room: options.room,
      passphrase: 'through thick and thin',
      reconnectDelaysMs: [20, 50, 100, 200],
      // The cuts end; the clients must never give up before that.
      maxReconnectAttempts: 1_000,
    };
    const alice = await startNodeClient(common);
    const bob = await startNodeClient(common);
    clients.push(alice, bob);
    await waitFor(clients, bothReady(alice, bob), 30_000, 'both ready');

    const started = Date.now();
    proxy.startCutting(options.cutEveryMs);
    const ticks = Math.max(1, Math.ceil(options.durationMs / TICK_MS));
    let sent = 0;
    await new Promise<void>((resolve) => {
      let tick = 0;
      const timer = setInterval(() => {
        tick += 1;
        const due = Math.floor((options.messages * tick) / ticks);
        for (; sent < due; sent++) {
          alice.conversation.send(`alice #${sent + 1}`);
          bob.conversation.send(`bob #${sent + 1}`);
        }
        if (tick >= ticks) {
          clearInterval(timer);
          resolve();
        }
      }, TICK_MS);
    });
    proxy.stopCutting();

    const figures = () => [tally('alice', alice, bob, sent), tally('bob', bob, alice, sent)] as const;
    const finished = () => {
      const [a, b] = figures();
      const ended = clients.some((c) => ['failed', 'closed'].includes(c.conversation.status));
      return ended || (a.delivered + a.failed === sent && b.delivered + b.failed === sent);
    };
    await waitFor(clients, finished, options.drainMs, 'every message delivered').catch(() => undefined);
    const [a, b] = figures();
    const count = (test: (client: NodeClient) => number) => test(alice) + test(bob);
    return {
      alice: a,
      bob: b,
      cuts: proxy.cuts(),
      reconnections: count(
        (c) => c.events.filter((e) => e.type === 'status' && e.status === 'reconnecting').length,
      ),
      rateLimited: count(
        (c) => c.events.filter((e) => e.type === 'problem' && e.code === 'rate-limited').length,
      ),
      elapsedMs: Date.now() - started,
    };
  } finally {
    for (const client of clients) client.conversation.leave();
    await proxy.close();
  }
}
