/**
 * Settings from the environment, validated: a bad value stops the relay at start with a clear
 * message instead of running with a surprise. Every setting and its default is in the README.
 */
import { z } from 'zod';
import { DEFAULT_LIMITS, type Limits } from './limits.ts';

export interface Config extends Limits {
  port: number;
  host: string;
  /** Origins allowed to open the WebSocket; empty means "the page's own origin only". */
  allowedOrigins: string[];
}

export const DEFAULT_CONFIG: Config = {
  port: 8080,
  host: '127.0.0.1',
  allowedOrigins: [],
  ...DEFAULT_LIMITS,
};

const positiveInt = z.coerce.number().int().positive();

/** `maxFrameBytes` is read from `MAX_FRAME_BYTES`, and so on for every limit. */
export function envName(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase();
}

export function configFromEnv(env: Record<string, string | undefined>): Config {
  const config: Config = { ...DEFAULT_CONFIG, allowedOrigins: [] };
  const problems: string[] = [];
  const read = (name: string, schema: z.ZodType, apply: (value: never) => void) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return;
    const parsed = schema.safeParse(raw);
    if (parsed.success) apply(parsed.data as never);
    else problems.push(`${name}=${JSON.stringify(raw)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  };
  read('PORT', z.coerce.number().int().min(0).max(65535), (value: number) => (config.port = value));
  read('HOST', z.string().min(1), (value: string) => (config.host = value));
  read(
    'ALLOWED_ORIGINS',
    z
      .string()
      .transform((list) => list.split(',').map((origin) => origin.trim()))
      .pipe(z.array(z.url())),
    (value: string[]) => (config.allowedOrigins = value.map((origin) => new URL(origin).origin)),
  );
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    read(envName(key), positiveInt, (value: number) => (config[key] = value));
  }
  if (problems.length > 0) throw new Error(`invalid settings: ${problems.join('; ')}`);
  return config;
}
