/**
 * The path switch alone: which path each frame takes, which partner frames the channel reads and
 * when, and when the direct link is given up. Effects are compared as lists.
 */
import { describe, expect, it } from 'vitest';
import type { PathMessage } from '../src/session/path-messages.ts';
import { PathSwitch, type PathSwitchEffect } from '../src/session/path-switch.ts';

const frame = (n: number) => new Uint8Array([n]);
const data = { kind: 'data' } as const;
const control = (message?: PathMessage) => ({ kind: 'control', message }) as const;

/** A switch whose link (attempt 1) is open with the relay usable: it has asked to seal switch + probe. */
function opened(options = {}): { paths: PathSwitch; requested: PathSwitchEffect[] } {
  const paths = new PathSwitch({ stallMs: 100, heartbeatMs: 50, ...options });
  paths.setRelayUsable(true);
  paths.linkStarted(1);
  return { paths, requested: paths.linkOpened() };
}

/** As `opened`, with the switch and the probe sent: the link carries control frames only. */
function probing(options = {}): PathSwitch {
  const { paths } = opened(options);
  paths.send(frame(1), control({ t: 'switch', attempt: 1 }));
  paths.send(frame(2), control({ t: 'ping', n: 0 }));
  return paths;
}

/** As `probing`, with the probe answered: confirmed. */
function direct(options = {}): PathSwitch {
  const paths = probing(options);
  paths.message({ t: 'pong', n: 0 });
  return paths;
}

describe('path switch: sending', () => {
  it('starts on the relay, with messages allowed only while the relay is usable', () => {
    const paths = new PathSwitch();
    expect(paths.path).toBe('relay');
    expect(paths.canSendData).toBe(false);
    expect(paths.setRelayUsable(true)).toEqual([]);
    expect(paths.canSendData).toBe(true);
    expect(paths.send(frame(1), data)).toEqual([{ type: 'relay', frame: frame(1) }]);
  });

  it('asks for switch and probe, back to back, once the link is open and the relay usable', () => {
    const paths = new PathSwitch();
    expect(paths.linkStarted(7)).toEqual([]);
    expect(paths.linkOpened()).toEqual([]); // the relay cannot carry the switch yet
    expect(paths.setRelayUsable(true)).toEqual([
      {
        type: 'seal',
        messages: [
          { t: 'switch', attempt: 7 },
          { t: 'ping', n: 0 },
        ],
      },
    ]);
    expect(paths.setRelayUsable(true)).toEqual([]); // asked once
  });

  it('sends the switch on the relay and the probe on the link, then holds messages back until the probe is answered', () => {
    const { paths, requested } = opened();
    expect(requested).toHaveLength(1);
    expect(paths.send(frame(1), control({ t: 'switch', attempt: 1 }))).toEqual([
      { type: 'relay', frame: frame(1) },
    ]);
    expect(paths.send(frame(2), control({ t: 'ping', n: 0 }))).toEqual([
      { type: 'direct', frame: frame(2) },
      { type: 'arm', timer: 'stall', ms: 100 },
    ]);
    expect(paths.canSendData).toBe(false);
    expect(paths.canSendControl).toBe(true);
    expect(paths.path).toBe('relay');
    // Answers and receipts still go, on the link.
    expect(paths.send(frame(3), control())).toEqual([{ type: 'direct', frame: frame(3) }]);
  });

  it('is direct once the probe is answered: shows it, starts the heartbeat, lets messages flow', () => {
    const paths = probing();
    expect(paths.message({ t: 'pong', n: 0 })).toEqual([
      { type: 'disarm', timer: 'stall' },
      { type: 'path', path: 'direct' },
      { type: 'arm', timer: 'heartbeat', ms: 50 },
      { type: 'flush' },
    ]);
    expect(paths.path).toBe('direct');
    expect(paths.send(frame(4), data)).toEqual([{ type: 'direct', frame: frame(4) }]);
  });

  it('does not send a switch sealed for a link that is gone', () => {
    const { paths } = opened();
    paths.linkDown();
    expect(paths.send(frame(1), control({ t: 'switch', attempt: 1 }))).toEqual([]);
    expect(paths.send(frame(2), control({ t: 'ping', n: 0 }))).toEqual([{ type: 'relay', frame: frame(2) }]);
  });

  it('ignores a pong it never asked for', () => {
    const paths = direct();
    expect(paths.message({ t: 'pong', n: 42 })).toEqual([]);
  });

  it('answers every ping with a pong', () => {
    const paths = new PathSwitch();
    expect(paths.message({ t: 'ping', n: 9 })).toEqual([{ type: 'seal', messages: [{ t: 'pong', n: 9 }] }]);
  });
});

describe('path switch: window and heartbeat', () => {
  it('asks for a ping every `pingEveryFrames` frames on the link', () => {
    const paths = direct({ pingEveryFrames: 3, windowFrames: 100 });
    // The probe was the link's first frame: the third after it asks for the next ping.
    expect(paths.send(frame(10), data)).toEqual([{ type: 'direct', frame: frame(10) }]);
    expect(paths.send(frame(11), data)).toEqual([{ type: 'direct', frame: frame(11) }]);
    expect(paths.send(frame(12), data)).toEqual([
      { type: 'direct', frame: frame(12) },
      { type: 'seal', messages: [{ t: 'ping', n: 1 }] },
    ]);
    // Not again while that ping is being sealed.
    expect(paths.send(frame(13), data)).toEqual([{ type: 'direct', frame: frame(13) }]);
  });

  it('holds messages back when the window is full, never control frames, and opens it on the pong', () => {
    const paths = direct({ pingEveryFrames: 1000, windowFrames: 3 });
    // The probe (frame 1 on the link) is confirmed; three more messages fill the window.
    for (let i = 0; i < 3; i++) paths.send(frame(i), data);
    expect(paths.canSendData).toBe(false);
    expect(paths.send(frame(9), control())).toEqual([{ type: 'direct', frame: frame(9) }]);
    paths.send(frame(5), control({ t: 'ping', n: 1 }));
    expect(paths.message({ t: 'pong', n: 1 })).toEqual([
      { type: 'disarm', timer: 'stall' },
      { type: 'flush' },
    ]);
    expect(paths.canSendData).toBe(true);
  });

  it('pings when the link is quiet, and not while a ping is unanswered', () => {
    const paths = direct();
    expect(paths.timeout('heartbeat')).toEqual([
      { type: 'arm', timer: 'heartbeat', ms: 50 },
      { type: 'seal', messages: [{ t: 'ping', n: 1 }] },
    ]);
    paths.send(frame(3), control({ t: 'ping', n: 1 }));
    expect(paths.timeout('heartbeat')).toEqual([{ type: 'arm', timer: 'heartbeat', ms: 50 }]);
  });

  it('gives the link up when a ping stays unanswered: back to the relay, everything unconfirmed again', () => {
    const paths = direct();
    paths.send(frame(3), control({ t: 'ping', n: 1 }));
    expect(paths.timeout('stall')).toEqual([
      { type: 'disarm', timer: 'stall' },
      { type: 'disarm', timer: 'heartbeat' },
      { type: 'give-up', reason: 'stall' },
      { type: 'path', path: 'relay' },
      { type: 'resend' },
    ]);
    expect(paths.path).toBe('relay');
    expect(paths.send(frame(4), data)).toEqual([{ type: 'relay', frame: frame(4) }]);
  });

  it('gives the link up when the probe is never answered', () => {
    const paths = probing();
    expect(paths.timeout('stall')).toContainEqual({ type: 'give-up', reason: 'stall' });
    expect(paths.canSendData).toBe(true);
  });
});

describe('path switch: reading the partner', () => {
  it('holds partner frames from the link until its switch is read, then delivers them in order', () => {
    const { paths } = opened();
    expect(paths.admit('direct', frame(2), 1)).toEqual([]);
    expect(paths.admit('direct', frame(3), 1)).toEqual([]);
    expect(paths.admit('relay', frame(1))).toEqual([{ type: 'deliver', frame: frame(1) }]);
    expect(paths.message({ t: 'switch', attempt: 1 })).toEqual([
      { type: 'deliver', frame: frame(2) },
      { type: 'deliver', frame: frame(3) },
    ]);
    expect(paths.admit('direct', frame(4), 1)).toEqual([{ type: 'deliver', frame: frame(4) }]);
  });

  it('ignores a switch for another link', () => {
    const { paths } = opened();
    paths.admit('direct', frame(2), 1);
    expect(paths.message({ t: 'switch', attempt: 2 })).toEqual([]);
  });

  it('drops frames from a link that is not the current one', () => {
    const { paths } = opened();
    paths.message({ t: 'switch', attempt: 1 });
    expect(paths.admit('direct', frame(2), 2)).toEqual([]);
    expect(paths.admit('direct', frame(2), undefined)).toEqual([]);
  });

  it('takes a relay frame after the partner switched as the partner leaving the link', () => {
    const paths = direct();
    paths.message({ t: 'switch', attempt: 1 });
    expect(paths.admit('relay', frame(5))).toEqual([
      { type: 'deliver', frame: frame(5) },
      { type: 'disarm', timer: 'stall' },
      { type: 'disarm', timer: 'heartbeat' },
      { type: 'give-up', reason: 'partner-left' },
      { type: 'path', path: 'relay' },
      { type: 'resend' },
    ]);
    // Its late frames on the link are dropped, unread.
    expect(paths.admit('direct', frame(4), 1)).toEqual([]);
  });

  it('gives the link up when too many frames wait for a switch', () => {
    const { paths } = opened({ maxHeldFrames: 2 });
    paths.admit('direct', frame(1), 1);
    paths.admit('direct', frame(2), 1);
    expect(paths.admit('direct', frame(3), 1)).toContainEqual({ type: 'give-up', reason: 'overflow' });
    expect(paths.message({ t: 'switch', attempt: 1 })).toEqual([]);
  });
});

describe('path switch: the link goes', () => {
  it('falls back without giving up when the link closed by itself', () => {
    const paths = direct();
    expect(paths.linkDown()).toEqual([
      { type: 'disarm', timer: 'stall' },
      { type: 'disarm', timer: 'heartbeat' },
      { type: 'path', path: 'relay' },
      { type: 'resend' },
    ]);
    expect(paths.linkDown()).toEqual([]);
  });

  it('a reset (new session) only stops the timers', () => {
    const paths = direct();
    expect(paths.reset()).toEqual([
      { type: 'disarm', timer: 'stall' },
      { type: 'disarm', timer: 'heartbeat' },
    ]);
    expect(paths.path).toBe('relay');
  });

  it('a new link replaces the old one', () => {
    const paths = direct();
    expect(paths.linkStarted(2)).toContainEqual({ type: 'resend' });
    expect(paths.linkOpened()).toEqual([
      {
        type: 'seal',
        messages: [
          { t: 'switch', attempt: 2 },
          { t: 'ping', n: 1 },
        ],
      },
    ]);
  });
});

describe('path switch: timers that fire late', () => {
  it('a stall timer on the relay, before any probe, gives nothing up', () => {
    const { paths } = opened();
    expect(paths.timeout('stall')).toEqual([]);
    expect(paths.linkDown()).toEqual([
      { type: 'disarm', timer: 'stall' },
      { type: 'disarm', timer: 'heartbeat' },
    ]);
  });

  it('a stall timer after every ping was answered gives nothing up', () => {
    // The pong disarms it, but a timer may already be on its way.
    const paths = direct();
    expect(paths.timeout('stall')).toEqual([]);
    expect(paths.path).toBe('direct');
  });

  it('a heartbeat before the link is confirmed asks for nothing', () => {
    expect(probing().timeout('heartbeat')).toEqual([]);
    expect(new PathSwitch().timeout('heartbeat')).toEqual([]);
  });
});

describe('path switch: pings in flight', () => {
  it('arms the stall timer for the oldest unanswered ping only, and again for the next on its pong', () => {
    const paths = direct();
    expect(paths.send(frame(3), control({ t: 'ping', n: 1 }))).toEqual([
      { type: 'direct', frame: frame(3) },
      { type: 'arm', timer: 'stall', ms: 100 },
    ]);
    expect(paths.send(frame(4), control({ t: 'ping', n: 2 }))).toEqual([{ type: 'direct', frame: frame(4) }]);
    // Nothing was held back, so nothing to flush.
    expect(paths.message({ t: 'pong', n: 1 })).toEqual([
      { type: 'disarm', timer: 'stall' },
      { type: 'arm', timer: 'stall', ms: 100 },
    ]);
  });

  it('a pong answers its ping and every older one', () => {
    const paths = direct();
    paths.send(frame(3), control({ t: 'ping', n: 1 }));
    paths.send(frame(4), control({ t: 'ping', n: 2 }));
    expect(paths.message({ t: 'pong', n: 2 })).toEqual([{ type: 'disarm', timer: 'stall' }]);
    expect(paths.message({ t: 'pong', n: 1 })).toEqual([]);
  });

  it('asks for no ping while probing, however many control frames go on the link', () => {
    const paths = probing({ pingEveryFrames: 2 });
    expect(paths.send(frame(3), control())).toEqual([{ type: 'direct', frame: frame(3) }]);
    expect(paths.send(frame(4), control())).toEqual([{ type: 'direct', frame: frame(4) }]);
  });

  it("only the probe's answer confirms the link, not an older ping's", () => {
    const paths = direct();
    paths.linkStarted(2);
    paths.linkOpened(); // asks for switch + probe 1
    paths.send(frame(1), control({ t: 'switch', attempt: 2 }));
    paths.send(frame(2), control({ t: 'ping', n: 0 })); // a ping from before the probe
    paths.send(frame(3), control({ t: 'ping', n: 1 }));
    expect(paths.message({ t: 'pong', n: 0 })).toEqual([
      { type: 'disarm', timer: 'stall' },
      { type: 'arm', timer: 'stall', ms: 100 },
    ]);
    expect(paths.path).toBe('relay');
    expect(paths.canSendData).toBe(false);
  });
});

describe('path switch: one link after another', () => {
  it('linkOpened without a link does nothing', () => {
    expect(new PathSwitch().linkOpened()).toEqual([]);
  });

  it('a started link is not open: the relay turning usable does not upgrade yet', () => {
    const paths = new PathSwitch();
    paths.linkStarted(1);
    expect(paths.setRelayUsable(true)).toEqual([]);
  });

  it('asks for no second switch while probing or direct', () => {
    const paths = probing();
    expect(paths.setRelayUsable(true)).toEqual([]);
    paths.message({ t: 'pong', n: 0 });
    expect(paths.setRelayUsable(true)).toEqual([]);
  });

  it('keeps control frames going on the link while probing even when the relay is not usable', () => {
    const paths = probing();
    paths.setRelayUsable(false);
    expect(paths.canSendControl).toBe(true);
  });

  it('a stale switch does not block the next link from upgrading', () => {
    const { paths } = opened();
    paths.linkDown();
    paths.send(frame(1), control({ t: 'switch', attempt: 1 }));
    paths.linkStarted(2);
    expect(paths.linkOpened()).toEqual([
      {
        type: 'seal',
        messages: [
          { t: 'switch', attempt: 2 },
          { t: 'ping', n: 1 },
        ],
      },
    ]);
  });

  it('does not send a switch sealed for an earlier link while the next one is open', () => {
    const { paths } = opened();
    paths.linkStarted(2);
    paths.linkOpened();
    expect(paths.send(frame(1), control({ t: 'switch', attempt: 1 }))).toEqual([]);
    expect(paths.send(frame(2), data)).toEqual([{ type: 'relay', frame: frame(2) }]);
  });

  it('sends a switch once: a second one for the same link is not sent', () => {
    const paths = probing();
    expect(paths.send(frame(3), control({ t: 'switch', attempt: 1 }))).toEqual([]);
  });

  it('a fallback while probing resends without showing a path change', () => {
    expect(probing().linkDown()).toEqual([
      { type: 'disarm', timer: 'stall' },
      { type: 'disarm', timer: 'heartbeat' },
      { type: 'resend' },
    ]);
  });

  it("the next link's probe arms the stall timer again: no ping of the old link is still counted", () => {
    const paths = direct();
    paths.send(frame(3), control({ t: 'ping', n: 1 }));
    paths.linkStarted(2);
    paths.linkOpened();
    paths.send(frame(1), control({ t: 'switch', attempt: 2 }));
    expect(paths.send(frame(2), control({ t: 'ping', n: 2 }))).toEqual([
      { type: 'direct', frame: frame(2) },
      { type: 'arm', timer: 'stall', ms: 100 },
    ]);
  });
});
