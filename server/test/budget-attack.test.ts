/**
 * Issue 10, item 1: the handshake budget cannot be turned against everyone. The review's attack
 * (throwaway rooms drained and left, over and over) runs against a relay with a small budget
 * table, in memory and on Redis, from one address and from many; a fresh room from another
 * address must still get its handshake at once, and the table must stay bounded.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartOptions } from '../src/server.ts';
import { budgetAttack, legitimateHandshake } from './support/budget-attack.ts';
import { startRedis, type TestRedis } from './support/redis-server.ts';
import { useServers } from './support/servers.ts';

const serve = useServers();
let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

/** The review's table: 200 room budgets. */
const TABLE = 200;
const relaySettings: StartOptions = {
  handshakeBudgetRooms: TABLE,
  messageBurst: 100_000, // the per-connection frame rate is not what is tested here
  logLevel: 'warn',
};
/** 50 attacking addresses: 127.0.0.10 … 127.0.0.59. */
const MANY = Array.from({ length: 50 }, (_, i) => `127.0.0.${10 + i}`);
const LEGIT = '127.0.0.2';

async function budgetsInRedis(): Promise<number> {
  const client = new Redis(redis.url);
  try {
    return (await client.keys('duet:budget:*')).length;
  } finally {
    client.disconnect();
  }
}

describe.each([
  ['memory', () => ({})],
  ['Redis', () => ({ redisUrl: redis.url })],
])('handshake budget exhaustion (%s mode)', (mode, extra) => {
  it('from one address and 64 connections, cannot keep a fresh room from a handshake', async ({
    annotate,
  }) => {
    await redis.flush();
    const server = await serve({ ...relaySettings, ...extra() });
    const attack = await budgetAttack({ url: server.url, connections: 64, rooms: 2 * TABLE });
    await annotate(`${mode}, one address: ${JSON.stringify(attack)}`);
    // Cut short: the address may cause only HANDSHAKE_BUDGETS_PER_IP (64) budgets at a time.
    expect(attack.rooms).toBeLessThanOrEqual(64 + 32 * 3);
    expect(await legitimateHandshake(server.url, LEGIT)).toMatchObject({ type: 'handshake', attempt: 1 });
    if (mode === 'Redis') expect(await budgetsInRedis()).toBeLessThanOrEqual(TABLE);
  });

  it('from 50 addresses, cannot keep a fresh room from a handshake', async ({ annotate }) => {
    await redis.flush();
    // Enough for the attack to fill the table with budgets still refilling (50 × 8 > 200).
    const server = await serve({
      ...relaySettings,
      handshakeBudgetsPerConnection: 8,
      handshakeNewRoomsPerSecond: 100_000,
      ...extra(),
    });
    const attack = await budgetAttack({
      url: server.url,
      connections: 2 * MANY.length,
      rooms: 2 * TABLE,
      localAddresses: MANY,
    });
    await annotate(`${mode}, ${MANY.length} addresses: ${JSON.stringify(attack)}`);
    expect(await legitimateHandshake(server.url, LEGIT)).toMatchObject({ type: 'handshake', attempt: 1 });
    if (mode === 'Redis') expect(await budgetsInRedis()).toBeLessThanOrEqual(TABLE);
  });
});
