/**
 * Who a client is, for the per-client limits (connections per IP, handshake budgets per IP).
 *
 * Behind a reverse proxy every connection comes from the proxy; `X-Forwarded-For` names the
 * client, but anyone can send that header. It is believed only from the proxies listed in
 * `TRUST_PROXY` (addresses, CIDRs, or proxy-addr's names `loopback`, `linklocal`,
 * `uniquelocal`), walking back from the connection's own address: proxy-addr, as Express does.
 *
 * An IPv6 client usually holds a whole /64 (often far more), so IPv6 addresses are counted by
 * their /64: one address per /64 would make every per-IP limit free to multiply.
 */
import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';
import proxyAddr from 'proxy-addr';

/** What the per-client limits count: an IPv4 address, or an IPv6 /64 (`2001:db8:1:2::/64`). */
export function addressKey(address: string): string {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address.replace(/%.*$/, '')); // a zone index (`fe80::1%eth0`) is no part of it
  } catch {
    return address; // not an IP address (a Unix socket, say): counted as it is
  }
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  return `${v6.parts
    .slice(0, 4)
    .map((part) => part.toString(16))
    .join(':')}::/64`;
}

/** Rejects a bad `TRUST_PROXY` entry with proxy-addr's own check (throws a TypeError). */
export function checkTrustedProxies(trusted: readonly string[]): void {
  proxyAddr.compile([...trusted]);
}

/** The function that names a request's client (as `addressKey` counts it), trusting `trusted` proxies. */
export function clientAddressOf(trusted: readonly string[]): (request: IncomingMessage) => string {
  const trust = proxyAddr.compile([...trusted]);
  return (request) => addressKey(proxyAddr(request, trust));
}
