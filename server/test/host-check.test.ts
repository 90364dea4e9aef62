/**
 * Issue 10, item 2: DNS rebinding. A page on evil.example whose name resolves to the relay
 * sends `Host` and `Origin` both `evil.example:PORT`; the Origin check alone lets it in, the
 * Host check must not, on any HTTP request or upgrade.
 */
import { get } from 'node:http';
import { describe, expect, it } from 'vitest';
import { configFromEnv } from '../src/config.ts';
import { hostRules, isHostAllowed, isLoopbackHost, parseHostRule } from '../src/host-check.ts';
import { upgradeStatus } from './client.ts';
import { useServers } from './support/servers.ts';

const serve = useServers();

function httpStatus(url: string, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(`${url}${path}`, { headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).on('error', reject);
  });
}

describe('host rules', () => {
  it('parses name and name:port, normalised, and nothing else', () => {
    expect(parseHostRule('Duet.Example.')).toEqual({ hostname: 'duet.example', port: '' });
    expect(parseHostRule('duet.example:8443')).toEqual({ hostname: 'duet.example', port: '8443' });
    expect(parseHostRule('[::1]:80')).toEqual({ hostname: '[::1]', port: '80' });
    for (const bad of ['', 'a/b', 'user@duet.example', 'duet.example:99999', '[::1', 'a b'])
      expect(parseHostRule(bad)).toBeUndefined();
  });

  it('knows loopback bind addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', 'localhost'])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'duet.example'])
      expect(isLoopbackHost(host)).toBe(false);
  });

  it('bound to loopback, answers to the loopback names on any port, and to nothing else', () => {
    const rules = hostRules({ host: '127.0.0.1', allowedHosts: [] });
    for (const host of ['localhost:8080', '127.0.0.1:9000', '[::1]:8080', 'LOCALHOST'])
      expect(isHostAllowed(host, rules)).toBe(true);
    for (const host of ['evil.example:8080', 'localhost.evil.example', '127.0.0.1.nip.io', undefined])
      expect(isHostAllowed(host, rules)).toBe(false);
  });

  it('ALLOWED_HOSTS replaces the defaults; a port, when given, must match (80 and 443 may be left out)', () => {
    const rules = hostRules({ host: '127.0.0.1', allowedHosts: ['duet.example', 'relay.example:443'] });
    expect(isHostAllowed('duet.example', rules)).toBe(true);
    expect(isHostAllowed('duet.example:8080', rules)).toBe(true);
    expect(isHostAllowed('relay.example', rules)).toBe(true);
    expect(isHostAllowed('relay.example:8443', rules)).toBe(false);
    expect(isHostAllowed('localhost:8080', rules)).toBe(false);
  });

  it('ALLOWED_HOSTS is required, with a clear error, when HOST is not loopback and ALLOWED_ORIGINS is empty', () => {
    expect(() => configFromEnv({ HOST: '0.0.0.0' })).toThrow(
      /ALLOWED_HOSTS: required when HOST is not loopback/,
    );
    expect(
      configFromEnv({ HOST: '0.0.0.0', ALLOWED_HOSTS: 'Duet.Example, duet.example:8443' }).allowedHosts,
    ).toEqual(['duet.example', 'duet.example:8443']);
    expect(() => configFromEnv({ HOST: '0.0.0.0', ALLOWED_ORIGINS: 'https://duet.example' })).not.toThrow();
    expect(() => configFromEnv({ ALLOWED_HOSTS: 'https://duet.example' })).toThrow(
      /ALLOWED_HOSTS="https:\/\/duet.example"/,
    );
  });
});

describe('a DNS-rebinding page against the relay', () => {
  it('gets 421 for the upgrade and for every HTTP request; the loopback names are served', async () => {
    const server = await serve();
    const evil = `evil.example:${server.port}`;
    expect(await upgradeStatus(server.url, { host: evil, origin: `http://${evil}` })).toBe(421);
    for (const path of ['/', '/healthz', '/metrics'])
      expect(await httpStatus(server.url, path, evil)).toBe(421);
    const own = `localhost:${server.port}`;
    expect(await upgradeStatus(server.url, { host: own, origin: `http://${own}` })).toBe(101);
    expect(await httpStatus(server.url, '/healthz', own)).toBe(200);
  });

  it('with ALLOWED_HOSTS, only those names are served', async () => {
    const server = await serve({ allowedHosts: ['duet.example'] });
    expect(await upgradeStatus(server.url, { host: 'duet.example', origin: 'https://duet.example' })).toBe(
      101,
    );
    expect(await httpStatus(server.url, '/healthz', 'duet.example')).toBe(200);
    expect(await httpStatus(server.url, '/healthz', `localhost:${server.port}`)).toBe(421);
  });
});
