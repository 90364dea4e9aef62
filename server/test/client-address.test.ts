/**
 * Issue 10, item 3: per-client limits behind a proxy and on IPv6. The client is named by
 * `X-Forwarded-For` only from a trusted proxy, and IPv6 clients are counted by their /64.
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { addressKey, clientAddressOf } from '../src/client-address.ts';
import { configFromEnv } from '../src/config.ts';
import { TestClient, upgradeStatus } from './client.ts';
import { useServers } from './support/servers.ts';

const serve = useServers();

const request = (from: string, forwardedFor?: string) =>
  ({
    socket: { remoteAddress: from },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  }) as unknown as IncomingMessage;

describe('addressKey', () => {
  it('counts an IPv4 address as itself, also when IPv4-mapped', () => {
    expect(addressKey('203.0.113.5')).toBe('203.0.113.5');
    expect(addressKey('::ffff:203.0.113.5')).toBe('203.0.113.5');
  });

  it('counts IPv6 addresses by their /64, however they are written', () => {
    expect(addressKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(addressKey('fe80::1%eth0')).toBe(addressKey('fe80::2'));
  });
});

describe('clientAddressOf', () => {
  it('ignores X-Forwarded-For unless the connection comes from a trusted proxy', () => {
    expect(clientAddressOf([])(request('127.0.0.1', '203.0.113.5'))).toBe('127.0.0.1');
    expect(clientAddressOf(['10.0.0.0/8'])(request('127.0.0.1', '203.0.113.5'))).toBe('127.0.0.1');
    expect(clientAddressOf(['127.0.0.1'])(request('127.0.0.1', '203.0.113.5'))).toBe('203.0.113.5');
    expect(clientAddressOf(['loopback'])(request('::1', '2001:db8:1:2::9'))).toBe('2001:db8:1:2::/64');
  });

  it('believes only the hops it trusts: a client cannot name itself by sending the header', () => {
    // nginx appends the address it saw to what the client sent.
    const forged = request('10.0.0.2', '127.0.0.1, 198.51.100.7');
    expect(clientAddressOf(['10.0.0.0/8'])(forged)).toBe('198.51.100.7');
    expect(
      clientAddressOf(['10.0.0.2', '192.0.2.0/24'])(request('10.0.0.2', '198.51.100.7, 192.0.2.1')),
    ).toBe('198.51.100.7');
  });

  it('TRUST_PROXY is a comma list checked at start', () => {
    expect(configFromEnv({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8, loopback' }).trustProxy).toEqual([
      '127.0.0.1',
      '10.0.0.0/8',
      'loopback',
    ]);
    expect(() => configFromEnv({ TRUST_PROXY: '10.0.0.0/99' })).toThrow(/TRUST_PROXY="10.0.0.0\/99"/);
    expect(() => configFromEnv({ TRUST_PROXY: 'proxy.example' })).toThrow(/TRUST_PROXY/);
  });
});

describe('per-client limits behind a trusted proxy (the test client plays nginx on loopback)', () => {
  const from = (address: string) => ({ 'x-forwarded-for': address });

  it('MAX_CONNECTIONS_PER_IP counts the forwarded client, and an IPv6 client by its /64', async () => {
    const server = await serve({ trustProxy: ['loopback'], maxConnectionsPerIp: 2 });
    const open = [
      await TestClient.connect(server.url, from('203.0.113.5')),
      await TestClient.connect(server.url, from('203.0.113.5')),
      await TestClient.connect(server.url, from('2001:db8:1:2::1')),
      await TestClient.connect(server.url, from('2001:db8:1:2::ffff')),
    ];
    expect(await upgradeStatus(server.url, from('203.0.113.5'))).toBe(429);
    expect(await upgradeStatus(server.url, from('2001:db8:1:2:abcd::1'))).toBe(429); // the same /64
    expect(await upgradeStatus(server.url, from('203.0.113.6'))).toBe(101);
    expect(await upgradeStatus(server.url, from('2001:db8:1:3::1'))).toBe(101);
    for (const client of open) client.close();
  });

  it('without TRUST_PROXY, X-Forwarded-For is ignored: the proxy is one client', async () => {
    const server = await serve({ maxConnectionsPerIp: 2 });
    const open = [
      await TestClient.connect(server.url, from('203.0.113.5')),
      await TestClient.connect(server.url, from('203.0.113.6')),
    ];
    expect(await upgradeStatus(server.url, from('203.0.113.7'))).toBe(429);
    for (const client of open) client.close();
  });

  it('handshake budgets are charged to the forwarded client', async () => {
    const server = await serve({ trustProxy: ['127.0.0.1'], handshakeBudgetsPerIp: 1 });
    const handshake = async (client: string, room: string) => {
      const a = await TestClient.connect(server.url, from(client));
      const b = await TestClient.connect(server.url, from(client));
      await a.join(room);
      await b.join(room);
      await a.control(); // partner-joined
      a.sendJson({ type: 'handshake' });
      const reply = await a.control();
      a.close();
      b.close();
      return reply;
    };
    expect(await handshake('203.0.113.5', 'proxied-one')).toMatchObject({ type: 'handshake' });
    expect(await handshake('203.0.113.5', 'proxied-two')).toMatchObject({
      type: 'error',
      code: 'rate-limited',
    });
    expect(await handshake('203.0.113.6', 'proxied-three')).toMatchObject({ type: 'handshake' });
  });

  it('GET /metrics stays private behind a loopback proxy', async () => {
    const server = await serve({ trustProxy: ['loopback'] });
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${server.url}/metrics`, { headers: from('203.0.113.5') })).status).toBe(404);
  });
});
