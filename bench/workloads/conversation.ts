/**
 * Workload g: whole conversations, per suite. Two clients of the app's own code (the terminal
 * client's Node transport, packages/cli/src/node-client.ts: Conversation, the suite's channel,
 * its delivery machine) through Duet's relay in its own process. Alice sends `messages` texts of
 * 100 bytes as fast as the conversation takes them; the clock stops when Bob has shown the last
 * one and, with `modern`, when Alice has its receipt (`delivered`), with `des` when the relay has
 * acknowledged it (`sent`: des has no receipts). The figure is messages per second end to end:
 * crypto, delivery bookkeeping and two relay hops together, not the relay alone (workloads a–c).
 */
import { startNodeClient, type NodeClient } from '@duet/cli/node-client';
import type { SuiteId } from '@duet/core/protocol/control';
import { RelayProcess } from '../relay-process.ts';

export interface ConversationResult {
  messages: number;
  des: { messagesPerSecond: number };
  modern: { messagesPerSecond: number };
}

const TEXT = 'x'.repeat(100);

function waitFor(predicate: () => boolean, what: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const check = setInterval(() => {
      if (predicate()) {
        clearInterval(check);
        resolve();
      } else if (performance.now() - started > timeoutMs) {
        clearInterval(check);
        reject(new Error(`conversation: no ${what} within ${timeoutMs} ms`));
      }
    }, 1);
  });
}

async function oneSuite(port: number, suite: SuiteId, messages: number, timeoutMs: number): Promise<number> {
  const common = {
    url: `ws://127.0.0.1:${port}/ws`,
    room: `bench-conversation-${suite}-${Math.random().toString(36).slice(2, 8)}`,
    passphrase: 'correct horse battery staple',
    suite,
  };
  const clients: NodeClient[] = [];
  const settled = suite === 'des' ? 'sent' : 'delivered';
  let settledCount = 0;
  try {
    const alice = await startNodeClient({
      ...common,
      onEvent: (event) => {
        if (event.type === 'delivery' && event.status === settled) settledCount += 1;
      },
    });
    clients.push(alice);
    const bob = await startNodeClient(common);
    clients.push(bob);
    await waitFor(
      () => alice.conversation.status === 'ready' && bob.conversation.status === 'ready',
      'ready',
      timeoutMs,
    );
    const started = performance.now();
    for (let i = 0; i < messages; i++) alice.conversation.send(TEXT);
    await waitFor(
      () => bob.received.length >= messages && settledCount >= messages,
      `${messages} messages ${settled}`,
      timeoutMs,
    );
    return messages / ((performance.now() - started) / 1000);
  } finally {
    for (const client of clients) client.conversation.leave();
    await Promise.all(clients.map((client) => client.closed()));
  }
}

/** Runs both suites against one fresh Duet relay process. */
export async function runConversation(messages: number, timeoutMs: number): Promise<ConversationResult> {
  const relay = await RelayProcess.start('duet');
  try {
    return {
      messages,
      des: { messagesPerSecond: await oneSuite(relay.port, 'des', messages, timeoutMs) },
      modern: { messagesPerSecond: await oneSuite(relay.port, 'modern', messages, timeoutMs) },
    };
  } finally {
    await relay.stop();
  }
}
