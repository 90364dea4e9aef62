/**
 * The `modern` handshake machine alone (session/handshake.ts), driven event by event. The test
 * plays the relay and, where it needs an adversary, the partner: reflected, replayed, stale and
 * out-of-phase frames. Guess accounting first: every attempt in which this side's tag went out
 * without a valid answer must cost the attacker a user action (a retry), never a free guess.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes, toHex } from '../src/bytes.ts';
import { decodeFrame, type HandshakeFrame } from '../src/crypto/modern-frame.ts';
import { AD_INITIATOR, AD_RESPONDER } from '../src/crypto/modern-inputs.ts';
import type { Role } from '../src/protocol/control.ts';
import type { ChannelEffect } from '../src/session/channel.ts';
import { createHandshake, type Handshake, type HandshakeStep } from '../src/session/handshake.ts';

const ROOM = 'handshake-room';
const NONCE = new Uint8Array(16).fill(0x5a);
const NONCE_2 = new Uint8Array(16).fill(0xa5);

function machine(passphrase = 'pass phrase'): Handshake {
  return createHandshake({ passphrase, room: ROOM, random: randomBytes });
}

/** The effects of a step, with frames decoded: `transmit hello@1`, `ready`, `failed passphrase-mismatch`. */
function names(step: HandshakeStep | ChannelEffect[]): string[] {
  const effects = Array.isArray(step) ? step : step.effects;
  return effects.map((effect) => {
    switch (effect.type) {
      case 'transmit': {
        const frame = decodeFrame(effect.frame);
        const attempt = 'attempt' in frame ? `@${frame.attempt}` : '';
        return `transmit ${frame.type}${attempt}${frame.type === 'abort' ? ` ${frame.reason}` : ''}`;
      }
      case 'failed':
      case 'warning':
        return `${effect.type} ${effect.code}`;
      default:
        return effect.type;
    }
  });
}

/** The one handshake frame a step transmitted. */
function sent(step: HandshakeStep): HandshakeFrame {
  const frames = step.effects.filter((e) => e.type === 'transmit');
  const effect = frames[0];
  if (frames.length !== 1 || effect?.type !== 'transmit')
    throw new Error(`expected one frame: ${names(step)}`);
  const frame = decodeFrame(effect.frame);
  if (frame.type === 'message' || frame.type === 'data') throw new Error('not a handshake frame');
  return frame;
}

/**
 * Two honest machines taken through attempt `attempt` up to `stop` (by default all the way):
 *   hellos → cpace-a → cpace-b (the responder's tag Tb goes out) → confirm (Ta) → both ready.
 */
function handshake(options: { a?: Handshake; b?: Handshake; attempt?: number; nonce?: Uint8Array } = {}) {
  const a = options.a ?? machine();
  const b = options.b ?? machine();
  const attempt = options.attempt ?? 1;
  const nonce = options.nonce ?? NONCE;
  const log: Record<Role, string[]> = { initiator: [], responder: [] };
  const note = (role: Role, step: HandshakeStep) => {
    log[role].push(...names(step));
    return step;
  };
  const helloA = sent(note('initiator', a.grant(attempt, nonce)));
  const helloB = sent(note('responder', b.grant(attempt, nonce)));
  const shareA = sent(note('initiator', a.receive(helloB)));
  note('responder', b.receive(helloA));
  const shareBStep = note('responder', b.receive(shareA));
  const shareB = sent(shareBStep);
  return {
    a,
    b,
    log,
    helloA,
    helloB,
    shareA,
    shareB,
    /** The initiator checks Tb, sends Ta and is ready. */
    confirmA(): { confirm: HandshakeFrame; step: HandshakeStep } {
      const step = note('initiator', a.receive(shareB));
      return { confirm: sent(step), step };
    },
  };
}

/** Both machines started: the initiator asked for an attempt. */
function started(passA = 'pass phrase', passB = passA) {
  const a = machine(passA);
  const b = machine(passB);
  expect(names(a.start('initiator'))).toEqual(['request-handshake']);
  expect(names(b.start('responder'))).toEqual([]);
  return { a, b };
}

describe('handshake: a whole run', () => {
  it('hello, cpace-a, cpace-b, confirm; both ready with the same first secrets, each in its role', () => {
    const { a, b } = started();
    const run = handshake({ a, b });
    expect(run.b.phase).toBe('awaitingConfirm');
    const { confirm, step } = run.confirmA();
    expect(names(step)).toEqual(['transmit confirm@1', 'ready']);
    const last = b.receive(confirm);
    expect(names(last)).toEqual(['ready']);
    expect(run.log.initiator).toEqual([
      'transmit hello@1',
      'transmit cpace-a@1',
      'transmit confirm@1',
      'ready',
    ]);
    expect(run.log.responder).toEqual(['transmit hello@1', 'transmit cpace-b@1']);
    expect(a.phase).toBe('confirmed');
    expect(b.phase).toBe('confirmed');
    expect(step.keys && last.keys).toBeTruthy();
    // Both sides derive the same first secrets; the role says which half of them each plays.
    const { role: initiatorRole, ...initiatorKeys } = step.keys!;
    const { role: responderRole, ...responderKeys } = last.keys!;
    expect([initiatorRole, responderRole]).toEqual(['initiator', 'responder']);
    const hexes = (keys: Record<string, Uint8Array>) => Object.values(keys).map(toHex);
    expect(hexes(initiatorKeys)).toEqual(hexes(responderKeys));
    expect(new Set(hexes(initiatorKeys)).size).toBe(6);
  });

  it('the shares carry the role-bound ADs', () => {
    const run = handshake(started());
    expect(run.shareA.type === 'cpace-a' && toHex(run.shareA.ad)).toBe(toHex(AD_INITIATOR));
    expect(run.shareB.type === 'cpace-b' && toHex(run.shareB.ad)).toBe(toHex(AD_RESPONDER));
  });

  it('a hello that arrives before this side has its grant is kept for it', () => {
    const { a, b } = started();
    const helloB = sent(b.grant(1, NONCE));
    expect(names(a.receive(helloB))).toEqual([]);
    expect(a.phase).toBe('awaitingGrant');
    expect(names(a.grant(1, NONCE))).toEqual(['transmit hello@1', 'transmit cpace-a@1']);
  });

  it('a hello kept for an older attempt is dropped when a newer grant comes', () => {
    const { a, b } = started();
    const old = sent(b.grant(1, NONCE));
    a.receive(old);
    expect(names(a.grant(2, NONCE))).toEqual(['transmit hello@2']);
    // The partner's hello for attempt 2 then completes it.
    const b2 = machine();
    b2.start('responder');
    const hello2 = sent(b2.grant(2, NONCE));
    expect(names(a.receive(hello2))).toEqual(['transmit cpace-a@2']);
  });

  it('a hello for a later attempt is kept while an older grant is used', () => {
    const { a } = started();
    const partner = machine();
    partner.start('responder');
    partner.grant(1, NONCE);
    const hello2 = sent(partner.grant(2, NONCE_2));
    expect(names(a.receive(hello2))).toEqual([]);
    expect(names(a.grant(1, NONCE))).toEqual(['transmit hello@1']); // a late grant: hello 2 waits
    expect(names(a.grant(2, NONCE_2))).toEqual(['transmit hello@2', 'transmit cpace-a@2']);
  });

  it('a hello that arrives before start is kept for the attempt it names', () => {
    const partner = machine();
    partner.start('responder');
    const hello = sent(partner.grant(1, NONCE));
    const a = machine();
    expect(names(a.receive(hello))).toEqual([]);
    expect(names(a.start('initiator'))).toEqual(['request-handshake']);
    expect(names(a.grant(1, NONCE))).toEqual(['transmit hello@1', 'transmit cpace-a@1']);
  });

  it('a stored grant used on start, and one already acted on is not used again', () => {
    const a = machine();
    expect(names(a.grant(3, NONCE))).toEqual([]); // before start: stored
    expect(a.phase).toBe('idle');
    expect(names(a.start('initiator'))).toEqual(['transmit hello@3']);
    a.reset();
    expect(names(a.grant(3, NONCE))).toEqual([]);
    expect(names(a.start('responder'))).toEqual(['transmit hello@3']);
  });

  it('a responder without a grant waits for one; an initiator asks', () => {
    const a = machine();
    const b = machine();
    expect(names(b.start('responder'))).toEqual([]);
    expect(b.phase).toBe('awaitingGrant');
    expect(names(a.start('initiator'))).toEqual(['request-handshake']);
    expect(a.phase).toBe('awaitingGrant');
  });

  it('a broken random source is a bad-input error, not a handshake failure', () => {
    let calls = 0;
    const random = (n: number) => (++calls === 1 ? randomBytes(n) : new Uint8Array(n - 1));
    const a = createHandshake({ passphrase: 'p', room: ROOM, random });
    const b = machine('p');
    a.start('initiator');
    b.start('responder');
    a.grant(1, NONCE);
    const helloB = sent(b.grant(1, NONCE));
    expect(() => a.receive(helloB)).toThrow(
      expect.objectContaining({
        code: 'bad-input',
        message: expect.stringContaining('random must return the requested number of bytes'),
      }),
    );
  });

  it('copies a grant stored for later: changing the caller array afterwards changes nothing', () => {
    const nonce = NONCE.slice();
    const a = machine();
    const b = machine();
    expect(names(a.grant(1, nonce))).toEqual([]);
    nonce.fill(0);
    const helloA = sent(a.start('initiator'));
    b.start('responder');
    const helloB = sent(b.grant(1, NONCE));
    b.receive(helloA);
    const shareB = sent(b.receive(sent(a.receive(helloB))));
    expect(names(a.receive(shareB))).toEqual(['transmit confirm@1', 'ready']);
  });

  // Its own check, not one further down (the frame encoder also refuses a short nonce).
  const RANDOM_REFUSED = expect.objectContaining({
    code: 'bad-input',
    message: expect.stringContaining('random must return the requested number of bytes'),
  });

  it('checks its random source', () => {
    const bad = createHandshake({ passphrase: 'p', room: ROOM, random: (n) => new Uint8Array(n - 1) });
    bad.start('initiator');
    expect(() => bad.grant(1, NONCE)).toThrow(RANDOM_REFUSED);
    const notBytes = createHandshake({
      passphrase: 'p',
      room: ROOM,
      random: (n) => Array.from({ length: n }, () => 0) as unknown as Uint8Array,
    });
    notBytes.start('initiator');
    expect(() => notBytes.grant(1, NONCE)).toThrow(RANDOM_REFUSED);
  });
});

describe('handshake: guess accounting (an attempt whose tag went out costs a retry)', () => {
  /** The responder has sent Tb; Ta never comes. */
  function tagSent() {
    const { a, b } = started();
    const run = handshake({ a, b });
    expect(b.phase).toBe('awaitingConfirm');
    return run;
  }

  /** After a counted failure: grants produce nothing, start reports the failure, retry recovers. */
  function expectCounted(b: Handshake): void {
    expect(b.phase).toBe('failed');
    // The partner asked for a new attempt: this side says so, and stays failed.
    expect(names(b.grant(7, NONCE_2))).toEqual(['partner-retried']);
    expect(names(b.start('responder'))).toEqual(['failed handshake-failed']);
    b.reset();
    expect(names(b.start('responder'))).toEqual(['failed handshake-failed']);
    expect(names(b.grant(8, NONCE_2))).toEqual(['partner-retried']);
    // Only a user action (retry) starts a new attempt, with the grant stored meanwhile.
    expect(names(b.retry('pass phrase'))).toEqual(['transmit hello@8']);
  }

  it('a grant for a new attempt', () => {
    const { b } = tagSent();
    expect(names(b.grant(2, NONCE_2))).toEqual(['failed handshake-failed']);
    expectCounted(b);
  });

  it('a hello for a new attempt, then its grant', () => {
    const { b } = tagSent();
    const partner = machine();
    partner.start('initiator');
    const hello2 = sent(partner.grant(2, NONCE_2));
    expect(names(b.receive(hello2))).toEqual([]);
    expect(b.phase).toBe('awaitingConfirm');
    expect(names(b.grant(2, NONCE_2))).toEqual(['failed handshake-failed']);
    expectCounted(b);
  });

  it('start again (the partner came back)', () => {
    const { b } = tagSent();
    expect(names(b.start('responder'))).toEqual(['failed handshake-failed']);
    expectCounted(b);
  });

  it('reset (the partner left)', () => {
    const { b } = tagSent();
    b.reset();
    expect(b.phase).toBe('idle');
    expect(names(b.start('responder'))).toEqual(['failed handshake-failed']);
    expectCounted(b);
  });

  it('an initiator that saw Tb and sent Ta is done: it has nothing left to count', () => {
    const run = tagSent();
    run.confirmA();
    expect(names(run.a.grant(2, NONCE_2))).toEqual(['transmit hello@2']);
  });

  it('an attempt left before any tag went out costs nothing', () => {
    const { a, b } = started();
    sent(a.grant(1, NONCE));
    sent(b.grant(1, NONCE));
    expect(b.phase).toBe('awaitingHello');
    expect(names(b.grant(2, NONCE_2))).toEqual(['transmit hello@2']);
    b.reset();
    expect(names(b.start('responder'))).toEqual([]);
    expect(b.phase).toBe('awaitingGrant');
  });

  it('a failure survives reset and sticks to the passphrase until retry', () => {
    const a = machine('right');
    const b = machine('wrong');
    a.start('initiator');
    b.start('responder');
    const run = handshake({ a, b });
    expect(names(run.confirmA().step)).toEqual([
      'transmit abort@1 passphrase-mismatch',
      'failed passphrase-mismatch',
    ]);
    a.reset();
    expect(names(a.start('initiator'))).toEqual(['failed passphrase-mismatch']);
    expect(names(a.grant(2, NONCE_2))).toEqual(['partner-retried']);
    expect(names(a.retry('right'))).toEqual(['transmit hello@2']);
  });

  it('retry before the partner is there only changes the passphrase', () => {
    const a = machine('first');
    expect(names(a.retry('second'))).toEqual([]);
    expect(a.phase).toBe('idle');
    expect(() => a.retry('')).toThrow(expect.objectContaining({ code: 'bad-input' }));
  });
});

describe('handshake: frames that do not fit are ignored', () => {
  it('a reflected cpace-a (the initiator own share sent back to it)', () => {
    const { a, b } = started();
    const run = handshake({ a, b });
    expect(names(a.receive(run.shareA))).toEqual([]);
    expect(a.phase).toBe('awaitingShare');
    expect(names(run.confirmA().step)).toEqual(['transmit confirm@1', 'ready']);
  });

  it('a reflected cpace-b (the responder own share and tag sent back to it)', () => {
    const { a, b } = started();
    const run = handshake({ a, b });
    expect(names(b.receive(run.shareB))).toEqual([]);
    expect(b.phase).toBe('awaitingConfirm');
    expect(names(b.receive(run.confirmA().confirm))).toEqual(['ready']);
  });

  it('a cpace-b before this responder has even seen cpace-a', () => {
    const { a, b } = started();
    const helloA = sent(a.grant(1, NONCE));
    sent(b.grant(1, NONCE));
    b.receive(helloA);
    expect(b.phase).toBe('awaitingShare');
    const other = handshake(started());
    expect(names(b.receive({ ...other.shareB, attempt: 1 }))).toEqual([]);
    expect(b.phase).toBe('awaitingShare');
  });

  it('a share before this side has the partner hello is ignored, not a crash', () => {
    const other = handshake(started());
    const { a, b } = started();
    a.grant(1, NONCE);
    b.grant(1, NONCE);
    expect([a.phase, b.phase]).toEqual(['awaitingHello', 'awaitingHello']);
    expect(names(a.receive(other.shareB))).toEqual([]);
    expect(names(b.receive(other.shareA))).toEqual([]);
    expect([a.phase, b.phase]).toEqual(['awaitingHello', 'awaitingHello']);
  });

  it('a confirm out of phase (the responder has not sent its tag yet) is ignored, not a crash', () => {
    const { a, b } = started();
    const helloA = sent(a.grant(1, NONCE));
    const helloB = sent(b.grant(1, NONCE));
    b.receive(helloA);
    const confirm: HandshakeFrame = { type: 'confirm', attempt: 1, tag: new Uint8Array(64) };
    expect(names(b.receive(confirm))).toEqual([]);
    expect(b.phase).toBe('awaitingShare');
    a.receive(helloB);
    expect(names(a.receive(confirm))).toEqual([]);
    expect(a.phase).toBe('awaitingShare');
  });

  it('a share for another attempt than the open one', () => {
    const { a, b } = started();
    const run = handshake({ a, b });
    expect(names(b.receive({ ...run.shareA, attempt: 2 }))).toEqual([]);
    expect(names(a.receive({ ...run.shareB, attempt: 0 }))).toEqual([]);
    expect(a.phase).toBe('awaitingShare');
    expect(names(run.confirmA().step)).toEqual(['transmit confirm@1', 'ready']);
  });

  it('anything but a hello while idle or failed', () => {
    const run = handshake(started());
    const idle = machine();
    for (const frame of [
      run.shareA,
      run.shareB,
      { type: 'abort', attempt: 1, reason: 'handshake-failed' } as const,
    ]) {
      expect(names(idle.receive(frame))).toEqual([]);
      expect(idle.phase).toBe('idle');
    }
  });

  it('a stale hello, and one for the open attempt received twice', () => {
    const { a, b } = started();
    const run = handshake({ a, b });
    expect(names(b.receive(run.helloA))).toEqual([]);
    expect(b.phase).toBe('awaitingConfirm');
    const { confirm } = run.confirmA();
    b.receive(confirm);
    // While confirmed, stale handshake frames are suspicious: a warning, nothing more.
    expect(names(b.receive(run.helloA))).toEqual(['warning bad-frame']);
    expect(names(b.receive(run.shareA))).toEqual(['warning bad-frame']);
    expect(b.phase).toBe('confirmed');
  });

  it('a hello for a new attempt while confirmed: the partner restarted, the keys are gone', () => {
    const { a, b } = started();
    const run = handshake({ a, b });
    b.receive(run.confirmA().confirm);
    const partner = machine();
    partner.start('initiator');
    const hello2 = sent(partner.grant(2, NONCE_2));
    expect(names(b.receive(hello2))).toEqual([]);
    expect(b.phase).toBe('awaitingGrant');
    expect(names(b.grant(2, NONCE_2))).toEqual(['transmit hello@2']);
    expect(b.phase).toBe('awaitingShare');
  });
});

describe('handshake: aborts', () => {
  const abort = (
    attempt: number,
    reason: 'passphrase-mismatch' | 'handshake-failed' = 'passphrase-mismatch',
  ) => ({ type: 'abort', attempt, reason }) as const;

  it.each(['awaitingHello', 'awaitingShare', 'awaitingConfirm'])(
    'an abort for the open attempt in %s fails with its reason, and is not echoed',
    (phase) => {
      const { a, b } = started();
      const helloA = sent(a.grant(1, NONCE));
      const helloB = sent(b.grant(1, NONCE));
      if (phase !== 'awaitingHello') b.receive(helloA);
      if (phase === 'awaitingConfirm') b.receive(sent(a.receive(helloB)));
      expect(b.phase).toBe(phase);
      expect(names(b.receive(abort(1, 'handshake-failed')))).toEqual(['failed handshake-failed']);
      expect(b.phase).toBe('failed');
    },
  );

  it('an abort for another attempt is ignored', () => {
    const { a, b } = started();
    const run = handshake({ a, b });
    expect(names(b.receive(abort(0)))).toEqual([]);
    expect(names(b.receive(abort(2)))).toEqual([]);
    expect(names(a.receive(abort(2)))).toEqual([]);
    expect(b.phase).toBe('awaitingConfirm');
    expect(names(b.receive(run.confirmA().confirm))).toEqual(['ready']);
  });

  it('an abort while waiting for a grant is ignored', () => {
    const { a } = started();
    expect(a.phase).toBe('awaitingGrant');
    expect(names(a.receive(abort(-1 >>> 0)))).toEqual([]);
    expect(names(a.receive(abort(0)))).toEqual([]);
    expect(a.phase).toBe('awaitingGrant');
  });

  it('the initiator takes an abort after ready until the partner proves its keys', () => {
    const first = handshake(started());
    first.confirmA();
    expect(names(first.a.receive(abort(1)))).toEqual(['failed passphrase-mismatch']);

    const second = handshake(started());
    second.confirmA();
    second.a.partnerProvedKeys();
    expect(names(second.a.receive(abort(1)))).toEqual(['warning bad-frame']);
    expect(second.a.phase).toBe('confirmed');
  });

  it('the responder never takes an abort once it has verified Ta', () => {
    const run = handshake(started());
    run.b.receive(run.confirmA().confirm);
    expect(names(run.b.receive(abort(1)))).toEqual(['warning bad-frame']);
    expect(run.b.phase).toBe('confirmed');
  });
});

describe('handshake: bad shares', () => {
  it('a cpace-a with the wrong AD fails the responder, which tells the partner', () => {
    const { a, b } = started();
    const helloA = sent(a.grant(1, NONCE));
    const helloB = sent(b.grant(1, NONCE));
    b.receive(helloA);
    const share = sent(a.receive(helloB));
    if (share.type !== 'cpace-a') throw new Error('expected cpace-a');
    expect(names(b.receive({ ...share, ad: AD_RESPONDER }))).toEqual([
      'transmit abort@1 handshake-failed',
      'failed handshake-failed',
    ]);
  });

  it('a cpace-b with the wrong AD fails the initiator, which tells the partner', () => {
    const run = handshake(started());
    if (run.shareB.type !== 'cpace-b') throw new Error('expected cpace-b');
    expect(names(run.a.receive({ ...run.shareB, ad: AD_INITIATOR }))).toEqual([
      'transmit abort@1 handshake-failed',
      'failed handshake-failed',
    ]);
  });

  it('a wrong Tb fails the initiator with passphrase-mismatch', () => {
    const run = handshake(started());
    if (run.shareB.type !== 'cpace-b') throw new Error('expected cpace-b');
    const tag = run.shareB.tag.slice();
    tag[63]! ^= 1;
    expect(names(run.a.receive({ ...run.shareB, tag }))).toEqual([
      'transmit abort@1 passphrase-mismatch',
      'failed passphrase-mismatch',
    ]);
  });

  it('the neutral element as a share fails with bad-point and tells the partner handshake-failed', () => {
    const run = handshake(started());
    if (run.shareB.type !== 'cpace-b') throw new Error('expected cpace-b');
    expect(names(run.a.receive({ ...run.shareB, share: new Uint8Array(32) }))).toEqual([
      'transmit abort@1 handshake-failed',
      'failed bad-point',
    ]);
  });
});

describe('handshake: grants', () => {
  it.each([
    ['a negative attempt', -1, NONCE],
    ['a fractional attempt', 1.5, NONCE],
    ['an attempt of 2^32', 2 ** 32, NONCE],
    ['a short nonce', 1, new Uint8Array(15)],
    ['a long nonce', 1, new Uint8Array(17)],
    ['a nonce that is not bytes', 1, Array.from(NONCE) as unknown as Uint8Array],
  ])('refuses %s as bad-input', (_name, attempt, nonce) => {
    const a = machine();
    a.start('initiator');
    expect(() => a.grant(attempt, nonce)).toThrow(expect.objectContaining({ code: 'bad-input' }));
    expect(a.phase).toBe('awaitingGrant');
  });

  it('takes attempts 0 and 2^32 − 1', () => {
    const a = machine();
    a.start('initiator');
    expect(names(a.grant(0, NONCE))).toEqual(['transmit hello@0']);
    expect(names(a.grant(0xffff_ffff, NONCE))).toEqual([`transmit hello@${0xffff_ffff}`]);
  });

  it('ignores a grant at or below the last attempt acted on', () => {
    const a = machine();
    a.start('initiator');
    a.grant(5, NONCE);
    expect(names(a.grant(5, NONCE_2))).toEqual([]);
    expect(names(a.grant(4, NONCE_2))).toEqual([]);
    expect(a.phase).toBe('awaitingHello');
  });

  it('copies the relay nonce: changing the caller array afterwards changes nothing', () => {
    const nonce = NONCE.slice();
    const a = machine();
    const b = machine();
    a.start('initiator');
    b.start('responder');
    const helloA = sent(a.grant(1, nonce));
    const helloB = sent(b.grant(1, NONCE));
    nonce.fill(0);
    b.receive(helloA);
    const shareB = sent(b.receive(sent(a.receive(helloB))));
    expect(names(a.receive(shareB))).toEqual(['transmit confirm@1', 'ready']);
  });
});
