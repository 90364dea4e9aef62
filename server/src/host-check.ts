/**
 * The Host check, against DNS rebinding. A page on `evil.example` whose name is made to resolve
 * to the relay's address reaches the relay with `Host: evil.example` and an Origin to match, so
 * the Origin check alone (origin.ts) lets it through. Only the names the relay is meant to be
 * reached by are served, on every HTTP request and upgrade (421 Misdirected Request otherwise).
 *
 * Bound to loopback, those names default to `localhost`, `127.0.0.1` and `[::1]`, on any port: a
 * rebinding page can never send a loopback name, and a page of another local origin is stopped
 * by the Origin check, so pinning the port would only refuse SSH tunnels and port forwards.
 */
import ipaddr from 'ipaddr.js';

/** A host name the relay answers to, on `port` only, or on any port when `port` is empty. */
export interface HostRule {
  readonly hostname: string;
  readonly port: string;
}

export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'] as const;

/** `name` or `name:port` (IPv6 in brackets), normalised; undefined when it is anything else. */
export function parseHostRule(value: string): HostRule | undefined {
  if (value === '' || /[/?#@\\\s]/.test(value)) return undefined;
  let hostname: string;
  try {
    hostname = new URL(`http://${value}`).hostname.replace(/\.$/, ''); // `duet.example.` is `duet.example`
  } catch {
    return undefined;
  }
  // The port as written: URL would drop `:80`, which must still mean port 80 only.
  const port = /:(\d+)$/.exec(value)?.[1];
  return { hostname, port: port === undefined ? '' : String(Number(port)) };
}

/** True for a bind address that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  try {
    const address = ipaddr.parse(host);
    const v4 = address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress();
    return (v4 ? (address as ipaddr.IPv6).toIPv4Address() : address).range() === 'loopback';
  } catch {
    return false;
  }
}

/**
 * The names to check `Host` against, or undefined when there is no check: `allowedHosts` when
 * given, the loopback names when bound to loopback, else none (config.ts then requires
 * `ALLOWED_ORIGINS`, which protects the WebSocket).
 */
export function hostRules(settings: {
  host: string;
  allowedHosts: readonly string[];
}): readonly HostRule[] | undefined {
  const names =
    settings.allowedHosts.length > 0
      ? settings.allowedHosts
      : isLoopbackHost(settings.host)
        ? LOOPBACK_NAMES
        : [];
  const rules = names.map(parseHostRule).filter((rule) => rule !== undefined);
  return rules.length > 0 ? rules : undefined;
}

/** Whether a request's `Host` header names the relay (always, when there are no rules). */
export function isHostAllowed(header: string | undefined, rules: readonly HostRule[] | undefined): boolean {
  if (rules === undefined) return true;
  const host = header === undefined ? undefined : parseHostRule(header);
  if (!host) return false;
  // Browsers leave out the scheme's default port: `duet.example` is port 80 or 443.
  const portMatches = (rule: HostRule) =>
    rule.port === '' ||
    rule.port === host.port ||
    (host.port === '' && (rule.port === '80' || rule.port === '443'));
  return rules.some((rule) => rule.hostname === host.hostname && portMatches(rule));
}
