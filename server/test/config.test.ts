import { describe, expect, it } from 'vitest';
import { configFromEnv, DEFAULT_CONFIG, envName, resolveConfig } from '../src/config.ts';
import { DEFAULT_LIMITS } from '../src/limits.ts';

describe('config from the environment', () => {
  it('uses the defaults when nothing is set', () => {
    expect(configFromEnv({})).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      allowedOrigins: [],
      maxFrameBytes: 65536,
      maxRooms: 10_000,
      maxConnections: 20_000,
    });
  });

  it('reads every limit from its SNAKE_CASE variable', () => {
    expect(envName('maxFrameBytes')).toBe('MAX_FRAME_BYTES');
    const env = Object.fromEntries(
      Object.keys(DEFAULT_LIMITS).map((key, index) => [envName(key), `${index + 7}`]),
    );
    const config = configFromEnv({ ...env, PORT: '9000', HOST: '0.0.0.0', ALLOWED_HOSTS: 'duet.example' });
    expect(config).toMatchObject({ port: 9000, host: '0.0.0.0' });
    Object.keys(DEFAULT_LIMITS).forEach((key, index) => expect(config).toHaveProperty(key, index + 7));
  });

  it('treats empty variables as unset', () => {
    expect(configFromEnv({ PORT: '', ALLOWED_ORIGINS: ' ' })).toEqual(DEFAULT_CONFIG);
  });

  it('normalises ALLOWED_ORIGINS to origins', () => {
    expect(
      configFromEnv({ ALLOWED_ORIGINS: 'https://a.example/, http://b.example:8080' }).allowedOrigins,
    ).toEqual(['https://a.example', 'http://b.example:8080']);
  });

  it('refuses bad values with a message naming each one', () => {
    const read = () =>
      configFromEnv({
        PORT: 'eighty',
        MAX_ROOMS: '-1',
        HEARTBEAT_MS: '1.5',
        ALLOWED_ORIGINS: 'not a url',
      });
    expect(read).toThrow(/PORT="eighty"/);
    expect(read).toThrow(/MAX_ROOMS="-1"/);
    expect(read).toThrow(/HEARTBEAT_MS="1.5"/);
    expect(read).toThrow(/ALLOWED_ORIGINS="not a url"/);
  });

  it('reads ICE_SERVERS as a JSON array of RTCIceServer objects', () => {
    const servers = [
      { urls: 'stun:stun.example.org' },
      { urls: ['turns:turn.example.org:5349?transport=tcp'], username: 'u', credential: 'p' },
    ];
    expect(configFromEnv({ ICE_SERVERS: JSON.stringify(servers) }).iceServers).toEqual(servers);
    expect(DEFAULT_CONFIG.iceServers).toEqual([]);
  });

  it.each([
    ['not JSON', '[{"urls": "stun:hunter2'],
    ['not an array', '{"urls":"stun:hunter2.example"}'],
    ['another scheme', '[{"urls":"https://hunter2.example"}]'],
    ['a TURN server without credentials', '[{"urls":"turn:a.example","username":"hunter2"}]'],
    ['an unknown field', '[{"urls":"stun:a.example","password":"hunter2"}]'],
  ])('refuses ICE_SERVERS that is %s, naming it without quoting it', (_, value) => {
    const read = () => configFromEnv({ ICE_SERVERS: value });
    expect(read).toThrow(/ICE_SERVERS/);
    expect(read).not.toThrow(/hunter2/);
  });

  it('reads REDIS_URL and NODE_ID, refusing bad ones without repeating the URL', () => {
    expect(configFromEnv({ REDIS_URL: 'redis://127.0.0.1:6379', NODE_ID: 'relay-1' })).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      nodeId: 'relay-1',
    });
    const bad = () => configFromEnv({ REDIS_URL: 'http://user:hunter2@x', NODE_ID: 'no spaces' });
    expect(bad).toThrow(/REDIS_URL/);
    expect(bad).toThrow(/NODE_ID="no spaces"/);
    expect(bad).not.toThrow(/hunter2/);
  });

  it('reads SEED_GATEWAY (host:port, IPv6 in brackets) and SEED_GATEWAY_ROOM, refusing bad ones', () => {
    expect(configFromEnv({ SEED_GATEWAY: '127.0.0.1:12345', SEED_GATEWAY_ROOM: 'seed-room' })).toMatchObject({
      seedGateway: '127.0.0.1:12345',
      seedGatewayRoom: 'seed-room',
    });
    expect(configFromEnv({ SEED_GATEWAY: '[::1]:12345' }).seedGateway).toBe('[::1]:12345');
    for (const value of ['12345', '127.0.0.1', '127.0.0.1:99999', '::1:12345', 'host :1'])
      expect(() => configFromEnv({ SEED_GATEWAY: value }), value).toThrow(/SEED_GATEWAY=/);
    expect(() => configFromEnv({ SEED_GATEWAY_ROOM: 'Not A Room' })).toThrow(
      /SEED_GATEWAY_ROOM="Not A Room"/,
    );
  });

  it('refuses origins that are not http or https', () => {
    expect(() => configFromEnv({ ALLOWED_ORIGINS: 'javascript:alert(1)' })).toThrow(/ALLOWED_ORIGINS/);
  });
});

describe('resolveConfig (options given in code)', () => {
  it('overlays the options on the defaults, ignoring undefined ones', () => {
    expect(resolveConfig({ port: 0, maxRooms: undefined })).toEqual({ ...DEFAULT_CONFIG, port: 0 });
  });

  it('refuses a bad option, naming it', () => {
    expect(() => resolveConfig({ maxFrameBytes: 0 })).toThrow(/maxFrameBytes/);
    expect(() => resolveConfig({ port: 70_000 })).toThrow(/port/);
  });
});
