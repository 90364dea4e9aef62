/**
 * Issue 10, item 6: with REDIS_URL, GET /healthz answers 503 while Redis is unreachable (the
 * node can seat nobody), so that a load balancer sends new clients elsewhere, and 200 again
 * once ioredis has reconnected.
 */
import { afterAll, expect, it, vi } from 'vitest';
import { startRedis, type TestRedis } from './support/redis-server.ts';
import { useServers } from './support/servers.ts';

const serve = useServers();
let redis: TestRedis | undefined;
afterAll(async () => {
  await redis?.stop();
});

async function health(url: string): Promise<{ code: number; status: unknown }> {
  const response = await fetch(`${url}/healthz`);
  return { code: response.status, status: ((await response.json()) as { status: unknown }).status };
}

it('GET /healthz is 503 redis-unreachable while Redis is down, and 200 again when it is back', async () => {
  redis = await startRedis();
  const port = Number(new URL(redis.url).port);
  const server = await serve({ redisUrl: redis.url, logLevel: 'silent' });
  expect(await health(server.url)).toEqual({ code: 200, status: 'ok' });

  await redis.stop();
  await vi.waitFor(
    async () => expect(await health(server.url)).toEqual({ code: 503, status: 'redis-unreachable' }),
    {
      timeout: 10_000,
      interval: 50,
    },
  );

  redis = await startRedis(port);
  await vi.waitFor(async () => expect(await health(server.url)).toEqual({ code: 200, status: 'ok' }), {
    timeout: 15_000,
    interval: 100,
  });
});
