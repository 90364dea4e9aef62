/**
 * Crash and restart: two clients chat at default limits while the relay (`npm start`) is
 * killed and started again on the same port, by turns with SIGKILL to the relay, SIGTERM to
 * the whole process group and SIGINT to it (Ctrl-C). Every message must arrive exactly once,
 * in order, and be confirmed; `npm start` must report each death honestly (137, 0, 0); and
 * the burst of retransmissions after each restart must never trip the relay's rate limit.
 */
import { createServer, type AddressInfo } from 'node:net';
import { startNodeClient, type NodeClient } from '@duet/cli/node-client';
import { bothReady, delivered, tally, waitFor } from '../../server/test/support/chat.ts';
import { startNpm, type NpmStart } from '../../server/test/support/npm-start.ts';
import { sleep, type PartOptions, type PartResult } from './part.ts';

const KILLS = [
  { name: 'SIGKILL to the relay', expected: 137 },
  { name: 'SIGTERM to the group', expected: 0 },
  { name: 'SIGINT to the group', expected: 0 },
] as const;
/** Messages each side sends per second while chatting, and how long it chats between kills. */
const PER_SECOND = 20;
const CHAT_MS = 2_500;
/** After the chat, wait for receipts until none has come for this long, or this long in all. */
const DRAIN_STALL_MS = 30_000;
const DRAIN_MAX_MS = 300_000;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function kill(relay: NpmStart, how: (typeof KILLS)[number]['name']): Promise<number | string> {
  if (how === 'SIGKILL to the relay') process.kill(relay.relayPid, 'SIGKILL');
  else process.kill(-relay.npm.pid!, how === 'SIGTERM to the group' ? 'SIGTERM' : 'SIGINT');
  const { code, signal } = await relay.exited;
  return code ?? `signal ${signal}`;
}

export async function restarts(options: PartOptions & { cycles: number }): Promise<PartResult> {
  const port = await freePort();
  const env = { PORT: String(port) }; // at LOG_LEVEL info: startNpm waits for the 'listening' line
  let relay = await startNpm(env);
  const clients: NodeClient[] = [];
  try {
    const common = { url: `ws://127.0.0.1:${port}/ws`, room: 'restart-soak', passphrase: 'again and again' };
    const alice = await startNodeClient(common);
    const bob = await startNodeClient(common);
    clients.push(alice, bob);
    await waitFor(clients, bothReady(alice, bob), 30_000, 'both ready');

    let sent = 0;
    const sender = setInterval(() => {
      sent += 1;
      alice.conversation.send(`alice #${sent}`);
      bob.conversation.send(`bob #${sent}`);
    }, 1000 / PER_SECOND);
    const statuses: (number | string)[] = [];
    const wrong: string[] = [];
    const deadline = Date.now() + options.budgetMs;
    for (let cycle = 0; cycle < options.cycles && Date.now() < deadline; cycle++) {
      await sleep(CHAT_MS);
      const how = KILLS[cycle % KILLS.length]!;
      const status = await kill(relay, how.name);
      statuses.push(status);
      if (status !== how.expected) wrong.push(`${how.name}: ${status}`);
      relay = await startNpm(env);
    }
    await sleep(CHAT_MS);
    clearInterval(sender);
    // The backlog goes out at the paced rate (pacer.ts): on a loaded machine, where restarts
    // are slow, it can take longer than a fixed wait. Wait while receipts keep coming.
    const confirmed = () => delivered(alice) + delivered(bob);
    const backlog = `${sent - delivered(alice)}, ${sent - delivered(bob)}`;
    const drainStarted = Date.now();
    let last = { count: confirmed(), at: drainStarted };
    const stalled = () => {
      if (confirmed() > last.count) last = { count: confirmed(), at: Date.now() };
      return confirmed() === 2 * sent || Date.now() - last.at > DRAIN_STALL_MS;
    };
    await waitFor(clients, stalled, DRAIN_MAX_MS, 'every message delivered').catch(() => undefined);
    const drainSeconds = Math.round((Date.now() - drainStarted) / 100) / 10;
    const a = tally('alice', alice, bob, sent);
    const b = tally('bob', bob, alice, sent);
    const rateLimited = clients
      .flatMap((c) => c.events)
      .filter((e) => e.type === 'problem' && e.code === 'rate-limited').length;
    const perfect = (t: typeof a) =>
      t.lost === 0 && t.doubled === 0 && t.outOfOrder === 0 && t.delivered === sent && t.fatal.length === 0;
    return {
      ok: perfect(a) && perfect(b) && wrong.length === 0 && rateLimited === 0,
      figures: {
        restarts: statuses.length,
        'npm start exit statuses': statuses.join(' '),
        'wrong statuses': wrong.length,
        'messages each way': sent,
        'lost (a→b, b→a)': `${a.lost}, ${b.lost}`,
        doubled: a.doubled + b.doubled,
        'out of order': a.outOfOrder + b.outOfOrder,
        'delivered (a, b)': `${a.delivered}, ${b.delivered}`,
        'failed conversations': a.fatal.length + b.fatal.length,
        'rate-limited told': rateLimited,
        'unconfirmed when the chat stopped (a, b)': backlog,
        'seconds to confirm them': drainSeconds,
      },
    };
  } finally {
    for (const client of clients) client.conversation.leave();
    relay.killGroup();
  }
}
