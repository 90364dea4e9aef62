/**
 * The relay's settings: defaults, then the environment (or the caller's options), validated
 * with one zod schema. A bad value stops the relay at start with a message naming it, instead
 * of running with a surprise.
 */
import { z } from 'zod';
import { roomCode } from '@duet/core/protocol/control';
import { checkTrustedProxies } from './client-address.ts';
import { parseGatewayAddress } from './gateway/seed-gateway.ts';
import { isLoopbackHost, parseHostRule } from './host-check.ts';
import { iceServers, type IceServer } from '@duet/core/protocol/client-config';
import { DEFAULT_LIMITS, type Limits } from './limits.ts';
import { LOG_LEVELS } from './log.ts';

export interface Config extends Limits {
  /** TCP port; 0 asks the system for a free one. */
  port: number;
  /** Bind address; `0.0.0.0` exposes the relay on the network. */
  host: string;
  /** Origins allowed to open the WebSocket; empty means "the page's own origin only". */
  allowedOrigins: string[];
  /**
   * Host names (`name` or `name:port`) the relay answers to, against DNS rebinding
   * (host-check.ts); empty: the loopback names when bound to loopback.
   */
  allowedHosts: string[];
  /**
   * Reverse proxies whose `X-Forwarded-For` names the client (addresses, CIDRs, or `loopback`,
   * `linklocal`, `uniquelocal`), for the per-client limits; empty: nobody's (client-address.ts).
   */
  trustProxy: string[];
  /** pino level for the JSON logs on stdout. */
  logLevel: (typeof LOG_LEVELS)[number];
  /** Serve GET /metrics to anyone, not only to loopback clients. */
  metricsPublic: boolean;
  /** `redis://…` or `rediss://…`: share rooms with other relay nodes; empty: this process only. */
  redisUrl: string;
  /** This node's name in Redis; empty: a random one at start. */
  nodeId: string;
  /** `host:port` of the TCP gateway for the original Python clients; empty: off. */
  seedGateway: string;
  /** The `des` room the gateway seats its clients in; empty: a room code generated at start. */
  seedGatewayRoom: string;
  /** STUN/TURN servers the app may use for the direct path (`GET /config`); empty: host candidates only. */
  iceServers: IceServer[];
}

export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze({
  port: 8080,
  host: '127.0.0.1',
  allowedOrigins: [],
  allowedHosts: [],
  trustProxy: [],
  logLevel: 'info',
  metricsPublic: false,
  redisUrl: '',
  nodeId: '',
  seedGateway: '',
  seedGatewayRoom: '',
  iceServers: [],
  ...DEFAULT_LIMITS,
});

const LIMIT_KEYS = Object.keys(DEFAULT_LIMITS) as (keyof Limits)[];

const count = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/** An http(s) origin, normalised (`https://a.example/` → `https://a.example`). */
const origin = z.url({ protocol: /^https?$/ }).transform((url) => new URL(url).origin);

/** `name` or `name:port`, normalised (`Duet.Example.` → `duet.example`). */
const hostName = z.string().transform((value, context) => {
  const rule = parseHostRule(value);
  if (rule) return rule.port ? `${rule.hostname}:${rule.port}` : rule.hostname;
  context.addIssue({ code: 'custom', message: 'must be host names, optionally with :port' });
  return z.NEVER;
});

const configSchema = z
  .strictObject({
    port: z.coerce.number().int().min(0).max(65535),
    host: z.string().min(1),
    allowedOrigins: z.array(origin),
    allowedHosts: z.array(hostName),
    trustProxy: z.array(z.string().min(1)).superRefine((trusted, context) => {
      try {
        checkTrustedProxies(trusted);
      } catch {
        context.addIssue({
          code: 'custom',
          message: 'must be IP addresses, CIDRs, loopback, linklocal or uniquelocal',
        });
      }
    }),
    logLevel: z.enum(LOG_LEVELS),
    metricsPublic: z.union([
      z.boolean(),
      z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true'),
    ]),
    redisUrl: z.union([
      z.literal(''),
      z.string().regex(/^rediss?:\/\/\S+$/, 'must be redis://… or rediss://…'),
    ]),
    nodeId: z.union([
      z.literal(''),
      z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ . -'),
    ]),
    seedGateway: z.union([
      z.literal(''),
      z
        .string()
        .refine(
          (value) => parseGatewayAddress(value) !== undefined,
          'must be host:port, such as 127.0.0.1:12345',
        ),
    ]),
    seedGatewayRoom: z.union([z.literal(''), roomCode]),
    /** From the environment, a JSON array in the `RTCIceServer[]` shape. */
    iceServers: z.preprocess((value, context) => {
      if (typeof value !== 'string') return value;
      try {
        return JSON.parse(value) as unknown;
      } catch {
        context.addIssue({ code: 'custom', message: 'must be JSON: an array of RTCIceServer objects' });
        return z.NEVER;
      }
    }, iceServers),
    ...(Object.fromEntries(LIMIT_KEYS.map((key) => [key, count])) as Record<keyof Limits, typeof count>),
  })
  // Reachable from other machines, the relay must know the names it is reached by, or at least
  // the origins allowed to open the WebSocket: else a DNS-rebinding page gets in (host-check.ts).
  .superRefine((config, context) => {
    if (isLoopbackHost(config.host) || config.allowedHosts.length > 0 || config.allowedOrigins.length > 0)
      return;
    context.addIssue({
      code: 'custom',
      path: ['allowedHosts'],
      message:
        'required when HOST is not loopback and ALLOWED_ORIGINS is empty: the host names clients use to reach Duet (for example duet.example)',
    });
  });

/** Settings whose values may hold credentials: named in errors, never quoted. */
const SECRET_KEYS = new Set(['redisUrl', 'iceServers']);

/** `maxFrameBytes` is read from `MAX_FRAME_BYTES`, and so on for every setting. */
export function envName(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase();
}

function validate(candidate: Record<string, unknown>, describe: (key: string) => string): Config {
  const parsed = configSchema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${describe(String(issue.path[0]))}: ${issue.message}`);
  throw new Error(`invalid settings: ${[...new Set(problems)].join('; ')}`);
}

/**
 * The settings from environment variables (`PORT`, `HOST`; `ALLOWED_ORIGINS`, `ALLOWED_HOSTS` and `TRUST_PROXY` as comma lists,
 * and every limit in limits.ts under its SNAKE_CASE name); unset or empty ones keep the default.
 * Throws an Error naming every bad variable.
 */
export function configFromEnv(env: Record<string, string | undefined>): Config {
  const candidate: Record<string, unknown> = { ...DEFAULT_CONFIG };
  const keys = [
    'port',
    'host',
    'allowedOrigins',
    'allowedHosts',
    'trustProxy',
    'logLevel',
    'metricsPublic',
    'redisUrl',
    'nodeId',
    'seedGateway',
    'seedGatewayRoom',
    'iceServers',
    ...LIMIT_KEYS,
  ];
  for (const key of keys) {
    const raw = env[envName(key)];
    if (raw === undefined || raw.trim() === '') continue;
    const isList = key === 'allowedOrigins' || key === 'allowedHosts' || key === 'trustProxy';
    candidate[key] = isList ? raw.split(',').map((item) => item.trim()) : raw;
  }
  // The Redis URL and TURN credentials are secrets: their values are never repeated.
  return validate(candidate, (key) => {
    const raw = env[envName(key)];
    return SECRET_KEYS.has(key) || raw === undefined
      ? envName(key)
      : `${envName(key)}=${JSON.stringify(raw)}`;
  });
}

/** The defaults overlaid with `options` (undefined values ignored), validated. */
export function resolveConfig(options: Partial<Config> = {}): Config {
  const given = Object.entries(options).filter(([, value]) => value !== undefined);
  return validate({ ...DEFAULT_CONFIG, ...Object.fromEntries(given) }, (key) => key);
}
