/**
 * The rehearsal of the `modern` handshake (session/modern-rehearsal.ts): one whole handshake
 * between two throwaway channels, a pause before each step, both channels' keys erased whatever
 * happens, a failure reported, and never more frames than a handshake has. The channels it
 * builds are watched through a wrapped createModernChannel (a file of its own, as vi.mock holds
 * for a whole file).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChannelEffect, SecureChannel } from '../src/session/channel.ts';
import { createModernChannel, type ModernChannelOptions } from '../src/session/modern-channel.ts';
import { rehearseModernHandshake } from '../src/session/modern-rehearsal.ts';
import { rehearseSuite } from '../src/session/suites.ts';
import { rehearseControl } from '../src/protocol/control.ts';

vi.mock('../src/protocol/control.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/protocol/control.ts')>();
  return { ...actual, rehearseControl: vi.fn(actual.rehearseControl) };
});

vi.mock('../src/session/modern-channel.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/session/modern-channel.ts')>();
  return { ...actual, createModernChannel: vi.fn(actual.createModernChannel) };
});

const { createModernChannel: realChannel } = await vi.importActual<
  typeof import('../src/session/modern-channel.ts')
>('../src/session/modern-channel.ts');

/**
 * The channels the rehearsal built, each with its effects and its resets counted. `spoil` changes
 * the responder's options; `lose` drops the responder's `lose`-th incoming frame.
 */
function watch(spoil?: (options: ModernChannelOptions) => ModernChannelOptions, lose?: number) {
  const built: {
    options: ModernChannelOptions;
    effects: ChannelEffect[];
    reset: ReturnType<typeof vi.fn>;
  }[] = [];
  vi.mocked(createModernChannel).mockImplementation((options) => {
    const channel = realChannel(built.length === 1 && spoil ? spoil(options) : options);
    const entry = { options, effects: [] as ChannelEffect[], reset: vi.fn(() => channel.reset()) };
    const responder = built.length === 1;
    let received = 0;
    built.push(entry);
    const record = async (effects: Promise<ChannelEffect[]>) => {
      const list = await effects;
      entry.effects.push(...list);
      return list;
    };
    return {
      ...channel,
      grant: (attempt, nonce) => record(channel.grant(attempt, nonce)),
      receive: (frame) => {
        received += 1;
        return responder && received === lose ? Promise.resolve([]) : record(channel.receive(frame));
      },
      reset: entry.reset,
    };
  });
  return built;
}

afterEach(() => {
  vi.mocked(createModernChannel).mockReset();
});

describe('rehearsing the modern handshake', () => {
  it('goes through one whole handshake: both sides ready, then both reset', async () => {
    const built = watch();
    const pause = vi.fn(async () => {});
    await rehearseModernHandshake(pause);
    expect(built).toHaveLength(2);
    const [initiator, responder] = built;
    // Made up, and the same for both: a room and a passphrase no one else uses.
    expect(initiator?.options.room).toMatch(/^rehearsal-[0-9a-f]{16}$/);
    expect(initiator?.options.passphrase).toMatch(/^[0-9a-f]{32}$/);
    expect(responder?.options).toEqual(initiator?.options);
    for (const side of built) {
      expect(side.effects.filter((effect) => effect.type === 'ready')).toHaveLength(1);
      expect(side.effects.some((effect) => effect.type === 'failed' || effect.type === 'warning')).toBe(
        false,
      );
      expect(side.reset).toHaveBeenCalledTimes(1);
    }
    // Before each grant and each of the five frames: two hellos, Ya, Yb ‖ Tb, Ta.
    expect(pause).toHaveBeenCalledTimes(7);
  });

  it('is new every time: another room, another passphrase', async () => {
    const built = watch();
    await rehearseModernHandshake();
    await rehearseModernHandshake();
    expect(built[2]?.options.room).not.toBe(built[0]?.options.room);
    expect(built[2]?.options.passphrase).not.toBe(built[0]?.options.passphrase);
  });

  it('says so when the handshake fails, and still erases both sides', async () => {
    const built = watch((options) => ({ ...options, passphrase: `${options.passphrase}!` }));
    await expect(rehearseModernHandshake()).rejects.toMatchObject({ code: 'handshake-failed' });
    for (const side of built) {
      expect(side.effects.some((effect) => effect.type === 'failed')).toBe(true);
      expect(side.reset).toHaveBeenCalledTimes(1);
    }
  });

  it('fails unless both sides are ready: Ta lost, only the initiator is', async () => {
    const built = watch(undefined, 3);
    await expect(rehearseModernHandshake()).rejects.toMatchObject({ code: 'handshake-failed' });
    expect(built[0]?.effects.some((effect) => effect.type === 'ready')).toBe(true);
    expect(built[1]?.effects.some((effect) => effect.type === 'ready')).toBe(false);
    for (const side of built) expect(side.reset).toHaveBeenCalledTimes(1);
  });

  it('carries no more frames than a handshake has, whatever the channels send', async () => {
    const endless: SecureChannel = {
      suite: 'modern',
      maxDataBytes: 0,
      start: async () => [],
      grant: async () => [{ type: 'transmit', frame: new Uint8Array(1) }],
      retry: async () => [],
      receive: async () => [{ type: 'transmit', frame: new Uint8Array(1) }],
      send: async () => [],
      reset: vi.fn(),
    };
    vi.mocked(createModernChannel).mockImplementation(() => ({ ...endless }));
    const pause = vi.fn(async () => {});
    await expect(rehearseModernHandshake(pause)).rejects.toMatchObject({ code: 'handshake-failed' });
    expect(pause).toHaveBeenCalledTimes(7);
  });

  it('runs for modern through the suite table; des rehearses only the relay messages', async () => {
    const built = watch();
    const pause = vi.fn(async () => {});
    vi.mocked(rehearseControl).mockClear();
    await rehearseSuite('des', pause);
    expect(built).toHaveLength(0);
    expect(pause).toHaveBeenCalledTimes(1);
    expect(rehearseControl).toHaveBeenCalledTimes(1);
    await rehearseSuite('modern', pause);
    expect(built).toHaveLength(2);
    expect(pause).toHaveBeenCalledTimes(1 + 1 + 7);
    expect(rehearseControl).toHaveBeenCalledTimes(2);
  });

  it('needs no pause', async () => {
    await expect(rehearseSuite('des')).resolves.toBeUndefined();
  });
});
