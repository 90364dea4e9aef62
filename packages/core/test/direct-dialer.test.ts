/**
 * The dialer alone: who offers, when, what each side says, how it backs off, and that "Always
 * use the relay" never creates a link. Effects are compared as lists.
 */
import { describe, expect, it } from 'vitest';
import { DirectDialer, type DialerEffect } from '../src/session/direct-dialer.ts';

const delays = [100, 1_000, 5_000];
/** With `random` at 0.5 the back-off's jitter is nil: each delay is exactly the listed one. */
const dialer = (allowed = true, random = () => 0.5) =>
  new DirectDialer({ allowed, random, retryDelaysMs: delays, connectMs: 50, stableMs: 500 });

const connects = (effects: DialerEffect[]) => effects.filter((effect) => effect.type === 'connect');

/** An initiator that has heard the partner accepts and has made attempt 1. */
function dialing(random?: () => number): DirectDialer {
  const initiator = dialer(true, random);
  initiator.start('initiator');
  initiator.message({ t: 'prefs', direct: true });
  return initiator;
}

describe('direct dialer', () => {
  it('says what it accepts when the session is ready, and the initiator waits for the partner', () => {
    const initiator = dialer();
    expect(initiator.start('initiator')).toEqual([
      { type: 'disarm', timer: 'connect' },
      { type: 'disarm', timer: 'retry' },
      { type: 'disarm', timer: 'stable' },
      { type: 'seal', message: { t: 'prefs', direct: true } },
    ]);
    expect(initiator.message({ t: 'prefs', direct: true })).toEqual([
      { type: 'connect', attempt: 1, initiator: true },
      { type: 'arm', timer: 'connect', ms: 50 },
    ]);
  });

  it('never dials when the partner prefers the relay', () => {
    const initiator = dialer();
    initiator.start('initiator');
    expect(connects(initiator.message({ t: 'prefs', direct: false }))).toEqual([]);
  });

  it('"Always use the relay": says so, creates no link, and declines an offer', () => {
    const initiator = dialer(false);
    expect(initiator.start('initiator')).toContainEqual({
      type: 'seal',
      message: { t: 'prefs', direct: false },
    });
    expect(connects(initiator.message({ t: 'prefs', direct: true }))).toEqual([]);

    const responder = dialer(false);
    responder.start('responder');
    expect(responder.message({ t: 'offer', attempt: 1, sdp: 'v=0' })).toEqual([
      { type: 'seal', message: { t: 'bye', attempt: 1 } },
    ]);
  });

  it('the responder never dials, and answers an offer with a link of its own', () => {
    const responder = dialer();
    responder.start('responder');
    expect(responder.message({ t: 'prefs', direct: true })).toEqual([]);
    expect(responder.message({ t: 'offer', attempt: 3, sdp: 'v=0' })).toEqual([
      { type: 'connect', attempt: 3, initiator: false },
      { type: 'signal', signal: { type: 'offer', sdp: 'v=0' } },
      { type: 'arm', timer: 'connect', ms: 50 },
    ]);
    expect(responder.message({ t: 'offer', attempt: 2, sdp: 'v=0' })).toEqual([]); // stale
  });

  it('passes signals of the current attempt both ways, with the attempt number', () => {
    const initiator = dialing();
    expect(initiator.localSignal({ type: 'offer', sdp: 'v=0 offer' })).toEqual([
      { type: 'seal', message: { t: 'offer', attempt: 1, sdp: 'v=0 offer' } },
    ]);
    const candidate = { candidate: 'candidate:1 1 udp 1 x.local 9 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    expect(initiator.localSignal({ type: 'candidate', ...candidate })).toEqual([
      { type: 'seal', message: { t: 'candidate', attempt: 1, ...candidate } },
    ]);
    expect(initiator.message({ t: 'answer', attempt: 1, sdp: 'v=0 answer' })).toEqual([
      { type: 'signal', signal: { type: 'answer', sdp: 'v=0 answer' } },
    ]);
    expect(initiator.message({ t: 'candidate', attempt: 1, ...candidate })).toEqual([
      { type: 'signal', signal: { type: 'candidate', ...candidate } },
    ]);
    expect(initiator.message({ t: 'answer', attempt: 2, sdp: 'v=0' })).toEqual([]);
    expect(initiator.message({ t: 'candidate', attempt: 0, ...candidate })).toEqual([]);
  });

  it('a failed attempt says bye and the initiator tries again after a growing back-off', () => {
    const initiator = dialing();
    expect(initiator.failed()).toEqual([
      { type: 'close' },
      { type: 'disarm', timer: 'connect' },
      { type: 'disarm', timer: 'stable' },
      { type: 'seal', message: { t: 'bye', attempt: 1 } },
      { type: 'arm', timer: 'retry', ms: 100 },
    ]);
    expect(initiator.failed()).toEqual([]); // once
    expect(initiator.timeout('retry')).toEqual([
      { type: 'connect', attempt: 2, initiator: true },
      { type: 'arm', timer: 'connect', ms: 50 },
    ]);
    expect(initiator.timeout('connect')).toContainEqual({ type: 'arm', timer: 'retry', ms: 1_000 });
    initiator.timeout('retry');
    expect(initiator.failed()).toContainEqual({ type: 'arm', timer: 'retry', ms: 5_000 });
    initiator.timeout('retry');
    expect(initiator.failed()).toContainEqual({ type: 'arm', timer: 'retry', ms: 5_000 }); // the last repeats
  });

  it('a link that stays confirmed resets the back-off', () => {
    const initiator = dialing();
    initiator.failed();
    initiator.timeout('retry');
    expect(initiator.opened()).toEqual([{ type: 'disarm', timer: 'connect' }]);
    expect(initiator.confirmed()).toEqual([{ type: 'arm', timer: 'stable', ms: 500 }]);
    initiator.timeout('stable');
    expect(initiator.failed()).toContainEqual({ type: 'arm', timer: 'retry', ms: 100 });
  });

  it("the partner's bye ends the attempt without a bye back", () => {
    const initiator = dialing();
    const effects = initiator.message({ t: 'bye', attempt: 1 });
    expect(effects).toContainEqual({ type: 'close' });
    expect(effects.filter((effect) => effect.type === 'seal')).toEqual([]);
    expect(initiator.message({ t: 'bye', attempt: 1 })).toEqual([]);
  });

  it('the responder does not retry by itself after a failure', () => {
    const responder = dialer();
    responder.start('responder');
    responder.message({ t: 'offer', attempt: 1, sdp: 'v=0' });
    const effects = responder.failed();
    expect(effects).toContainEqual({ type: 'seal', message: { t: 'bye', attempt: 1 } });
    expect(effects.filter((effect) => effect.type === 'arm')).toEqual([]);
    expect(connects(responder.message({ t: 'offer', attempt: 2, sdp: 'v=0' }))).toHaveLength(1);
  });

  it('turning "Always use the relay" on closes the link and says so; off again dials at once', () => {
    const initiator = dialing();
    expect(initiator.setAllowed(false)).toEqual([
      { type: 'close' },
      { type: 'disarm', timer: 'connect' },
      { type: 'disarm', timer: 'stable' },
      { type: 'seal', message: { t: 'bye', attempt: 1 } },
      { type: 'disarm', timer: 'retry' },
      { type: 'seal', message: { t: 'prefs', direct: false } },
    ]);
    expect(initiator.setAllowed(false)).toEqual([]);
    expect(initiator.setAllowed(true)).toEqual([
      { type: 'seal', message: { t: 'prefs', direct: true } },
      { type: 'connect', attempt: 2, initiator: true },
      { type: 'arm', timer: 'connect', ms: 50 },
    ]);
  });

  it('the partner turning it on closes our link', () => {
    const initiator = dialing();
    expect(initiator.message({ t: 'prefs', direct: false })).toEqual([
      { type: 'close' },
      { type: 'disarm', timer: 'connect' },
      { type: 'disarm', timer: 'stable' },
      { type: 'disarm', timer: 'retry' },
    ]);
  });

  it('stops without a word when the session ends, and ignores messages until it starts again', () => {
    const initiator = dialing();
    expect(initiator.stop()).toEqual([
      { type: 'close' },
      { type: 'disarm', timer: 'connect' },
      { type: 'disarm', timer: 'retry' },
      { type: 'disarm', timer: 'stable' },
    ]);
    expect(initiator.message({ t: 'prefs', direct: true })).toEqual([]);
    expect(initiator.setAllowed(false)).toEqual([]);
    expect(initiator.allowed).toBe(false);
  });
});

describe('direct dialer: before, between and after links', () => {
  it('says nothing and hears nothing before the session starts', () => {
    const fresh = dialer();
    expect(fresh.setAllowed(false)).toEqual([]);
    expect(fresh.message({ t: 'prefs', direct: true })).toEqual([]);
    expect(fresh.partnerAllows).toBeUndefined();
  });

  it("keeps the partner's choice and the current attempt", () => {
    const initiator = dialing();
    expect(initiator.partnerAllows).toBe(true);
    expect(initiator.attempt).toBe(1);
    initiator.message({ t: 'prefs', direct: false });
    expect(initiator.partnerAllows).toBe(false);
  });

  it('a stopped responder creates no link for a late offer', () => {
    const responder = dialer();
    responder.start('responder');
    responder.stop();
    expect(responder.message({ t: 'offer', attempt: 1, sdp: 'v=0' })).toEqual([]);
  });

  it('passes no local signal when there is no link', () => {
    const initiator = dialer();
    initiator.start('initiator');
    expect(initiator.localSignal({ type: 'offer', sdp: 'v=0' })).toEqual([]);
  });

  it('ignores opened, confirmed and timers that do not fit the phase', () => {
    const idle = dialer();
    idle.start('initiator');
    expect(idle.opened()).toEqual([]);

    const initiator = dialing();
    expect(initiator.confirmed()).toEqual([]); // not open yet
    expect(initiator.timeout('retry')).toEqual([]); // not waiting: no second link
    initiator.opened();
    expect(initiator.timeout('connect')).toEqual([]); // it did open in time
    expect(initiator.timeout('stable')).toEqual([]);
  });

  it('a link that does not open in time says bye', () => {
    expect(dialing().timeout('connect')).toEqual([
      { type: 'close' },
      { type: 'disarm', timer: 'connect' },
      { type: 'disarm', timer: 'stable' },
      { type: 'seal', message: { t: 'bye', attempt: 1 } },
      { type: 'arm', timer: 'retry', ms: 100 },
    ]);
  });

  it('turning "Always use the relay" on and off while waiting out a back-off dials at once', () => {
    const initiator = dialing();
    initiator.failed();
    initiator.setAllowed(false);
    expect(connects(initiator.setAllowed(true))).toEqual([{ type: 'connect', attempt: 2, initiator: true }]);
  });

  it('allowing it again does not dial before the partner has said it accepts', () => {
    const initiator = dialer(false);
    initiator.start('initiator');
    expect(initiator.setAllowed(true)).toEqual([{ type: 'seal', message: { t: 'prefs', direct: true } }]);
  });

  it('the initiator makes one link at a time, however often the partner says it accepts', () => {
    const initiator = dialing();
    expect(initiator.message({ t: 'prefs', direct: true })).toEqual([]);
  });

  it('only the responder takes offers, and only the initiator takes answers', () => {
    expect(dialing().message({ t: 'offer', attempt: 5, sdp: 'v=0' })).toEqual([]);
    const responder = dialer();
    responder.start('responder');
    responder.message({ t: 'offer', attempt: 1, sdp: 'v=0' });
    expect(responder.message({ t: 'answer', attempt: 1, sdp: 'v=0' })).toEqual([]);
  });

  it('the responder ignores a repeated offer, and replaces its link for a newer one without a bye', () => {
    const responder = dialer();
    responder.start('responder');
    responder.message({ t: 'offer', attempt: 1, sdp: 'v=0' });
    expect(responder.message({ t: 'offer', attempt: 1, sdp: 'v=0' })).toEqual([]);
    // The partner made the newer offer, so it knows the old link is gone.
    expect(responder.message({ t: 'offer', attempt: 2, sdp: 'v=0 2' })).toEqual([
      { type: 'close' },
      { type: 'disarm', timer: 'connect' },
      { type: 'disarm', timer: 'stable' },
      { type: 'connect', attempt: 2, initiator: false },
      { type: 'signal', signal: { type: 'offer', sdp: 'v=0 2' } },
      { type: 'arm', timer: 'connect', ms: 50 },
    ]);
  });

  it('jitters the back-off by up to a fifth either way', () => {
    expect(dialing(() => 0).failed()).toContainEqual({ type: 'arm', timer: 'retry', ms: 80 });
    expect(dialing(() => 0.999).failed()).toContainEqual({ type: 'arm', timer: 'retry', ms: 120 });
  });
});
