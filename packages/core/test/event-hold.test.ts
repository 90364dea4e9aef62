import { describe, expect, it } from 'vitest';
import { EventHold } from '../src/session/event-hold.ts';

interface Timer {
  callback: () => void;
  ms: number;
}

/** Events are strings; `!`-suffixed ones must be seen at once. */
function setup(maxMs = 150) {
  const delivered: string[] = [];
  const timers: Timer[] = [];
  const hold: EventHold<string> = new EventHold<string>({
    deliver: (event) => delivered.push(event),
    releasesOn: (event) => event.endsWith('!'),
    timers: {
      set: (callback, ms) => {
        const timer = { callback, ms };
        timers.push(timer);
        return timer;
      },
      clear: (handle) => {
        const index = timers.indexOf(handle as Timer);
        if (index >= 0) timers.splice(index, 1);
      },
    },
    maxMs,
  });
  return { hold, delivered, timers };
}

describe('EventHold', () => {
  it('delivers at once when not holding', () => {
    const { hold, delivered, timers } = setup();
    hold.emit('a');
    expect(delivered).toEqual(['a']);
    expect(hold.holding).toBe(false);
    expect(timers).toEqual([]);
  });

  it('holds progress until an event that must be seen, then gives out everything in order', () => {
    const { hold, delivered, timers } = setup();
    hold.hold();
    hold.emit('partner');
    hold.emit('handshaking');
    expect(delivered).toEqual([]);
    expect(hold.holding).toBe(true);
    hold.emit('ready!');
    expect(delivered).toEqual(['partner', 'handshaking', 'ready!']);
    expect(hold.holding).toBe(false);
    expect(timers).toEqual([]); // its deadline went with it
    hold.emit('after');
    expect(delivered.at(-1)).toBe('after');
  });

  it('holds for maxMs at most', () => {
    const { hold, delivered, timers } = setup(150);
    hold.hold();
    hold.emit('partner');
    expect(timers.map((timer) => timer.ms)).toEqual([150]);
    timers[0]?.callback();
    expect(delivered).toEqual(['partner']);
    expect(hold.holding).toBe(false);
  });

  it('a second hold keeps the first deadline', () => {
    const { hold, timers } = setup();
    hold.hold();
    hold.hold();
    expect(timers).toHaveLength(1);
  });

  it('release with nothing held does nothing; held nothing, it just stops holding', () => {
    const { hold, delivered, timers } = setup();
    hold.release();
    expect(delivered).toEqual([]);
    hold.hold();
    hold.release();
    expect(hold.holding).toBe(false);
    expect(timers).toEqual([]);
    expect(delivered).toEqual([]);
  });

  it('holds again after a release', () => {
    const { hold, delivered } = setup();
    hold.hold();
    hold.emit('partner');
    hold.release();
    hold.hold();
    hold.emit('handshaking');
    expect(delivered).toEqual(['partner']);
    hold.emit('ready!');
    expect(delivered).toEqual(['partner', 'handshaking', 'ready!']);
  });

  it('an event emitted while the held ones go out (a handler that calls back) queues behind them, each once', () => {
    const delivered: string[] = [];
    const hold: EventHold<string> = new EventHold<string>({
      deliver: (event) => {
        delivered.push(event);
        if (event === 'partner') hold.emit('reaction');
        if (event === 'handshaking') hold.emit('problem!');
      },
      releasesOn: (event) => event.endsWith('!'),
      timers: { set: () => 0, clear: () => undefined },
      maxMs: 150,
    });
    hold.hold();
    hold.emit('partner');
    hold.emit('handshaking');
    hold.emit('ready!');
    expect(delivered).toEqual(['partner', 'handshaking', 'ready!', 'reaction', 'problem!']);
    expect(hold.holding).toBe(false);
  });
});
