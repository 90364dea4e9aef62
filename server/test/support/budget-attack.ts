/**
 * The handshake-budget exhaustion attack from the outside review (issue 10, item 1): pairs of
 * connections seat themselves in throwaway rooms, drain each room's attempts, leave, and go on
 * to the next room, so that the relay has to remember ever more spent budgets. Bounded: it
 * stops after `rooms` rooms in all, or when every pair has been refused `giveUpAfter` times
 * in a row.
 */
import { randomBytes } from 'node:crypto';
import { TestClient } from '../client.ts';

export interface BudgetAttackOptions {
  url: string;
  /** Connections, in pairs; each pair drains rooms together. */
  connections: number;
  /** Rooms to drain, in all. */
  rooms: number;
  /** Attempts asked for in each room (the default burst is 5). */
  attemptsPerRoom?: number;
  /** Where connections come from, round robin by pair (loopback: any of 127.0.0.0/8). */
  localAddresses?: readonly string[];
  /** A pair stops after this many rooms in a row where every attempt was refused. */
  giveUpAfter?: number;
}

export interface BudgetAttackResult {
  /** Handshake attempts granted, and refused with `rate-limited`. */
  grants: number;
  refusals: number;
  /** Rooms the attack seated itself in. */
  rooms: number;
  ms: number;
}

export async function budgetAttack(options: BudgetAttackOptions): Promise<BudgetAttackResult> {
  const { attemptsPerRoom = 5, localAddresses = ['127.0.0.1'], giveUpAfter = 3 } = options;
  const result: BudgetAttackResult = { grants: 0, refusals: 0, rooms: 0, ms: 0 };
  const started = performance.now();
  let roomsLeft = options.rooms;

  async function pair(localAddress: string): Promise<void> {
    const connect = () => TestClient.connect(options.url, {}, { localAddress });
    const [a, b] = await Promise.all([connect(), connect()]);
    let refusedInARow = 0;
    try {
      while (roomsLeft > 0 && refusedInARow < giveUpAfter) {
        roomsLeft -= 1;
        const room = `attack-${randomBytes(6).toString('hex')}`;
        await a.join(room);
        await b.join(room);
        await a.control(); // partner-joined
        result.rooms += 1;
        for (let i = 0; i < attemptsPerRoom; i++) a.sendJson({ type: 'handshake' });
        let granted = 0;
        for (let answered = 0; answered < attemptsPerRoom;) {
          const reply = await a.control();
          if (reply.type === 'handshake') {
            granted += 1;
            answered += 1;
          } else if (reply.type === 'error' && reply.code === 'rate-limited') {
            // Refusals after the first within a second come as one error with their `count`.
            const refused = reply.count ?? 1;
            result.refusals += refused;
            answered += refused;
          } else throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
        }
        for (let i = 0; i < granted; i++) await b.control(); // the partner's copy of each grant
        result.grants += granted;
        refusedInARow = granted === 0 ? refusedInARow + 1 : 0;
        a.sendJson({ type: 'leave' });
        await b.control(); // partner-left
        b.sendJson({ type: 'leave' });
      }
    } finally {
      a.close();
      b.close();
      await Promise.all([a.closed, b.closed]);
    }
  }

  const pairs = Math.max(1, Math.floor(options.connections / 2));
  await Promise.all(
    Array.from({ length: pairs }, (_, i) => pair(localAddresses[i % localAddresses.length] ?? '127.0.0.1')),
  );
  result.ms = Math.round(performance.now() - started);
  return result;
}

/** Two fresh connections from `localAddress` in a fresh room: the relay's answer to their first `handshake`. */
export async function legitimateHandshake(url: string, localAddress: string) {
  const connect = () => TestClient.connect(url, {}, { localAddress });
  const [a, b] = await Promise.all([connect(), connect()]);
  const room = `legit-${randomBytes(6).toString('hex')}`;
  try {
    await a.join(room);
    await b.join(room);
    await a.control(); // partner-joined
    a.sendJson({ type: 'handshake' });
    return await a.control();
  } finally {
    a.close();
    b.close();
  }
}
