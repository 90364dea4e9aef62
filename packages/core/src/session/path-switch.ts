/**
 * Which path carries this side's frames, the relay or a direct link (a WebRTC data channel),
 * and in which order the partner's frames reach the channel. A pure machine: the conversation
 * feeds it what happened and carries out the effects it returns; it owns no socket and no timer.
 *
 * The channel numbers its frames (the ratchet's sequence numbers) and expects them in order:
 * a frame that overtakes another makes the earlier one look replayed. Two ordered paths keep
 * that order only if each side's frames are read from one path at a time and every switch is
 * marked in the stream itself. So, per direction:
 *
 * - **Upgrade.** Once the link is open (and the relay usable), the sender seals two control
 *   messages back to back: `switch` (sent on the relay, its last frame there) and `ping` (the
 *   probe, the first frame on the link). From then on every frame goes on the link. The
 *   receiver reads the relay until it decrypts `switch`, holding whatever the link brings
 *   meanwhile, then reads the link. Since both paths are first in, first out, nothing is
 *   overtaken.
 * - **Confirmation.** The probe's `pong`, answered under the session keys, proves that the
 *   partner at the other end of the link holds the session. Until then only control frames
 *   (the probe, answers, receipts, signalling) go on the link: messages wait (`canSendData`).
 * - **Fallback.** When the link closes, errs, stalls (a ping unanswered for `stallMs`) or
 *   misbehaves, the sender goes back to the relay and asks for everything unconfirmed to be
 *   sent again (`resend`): frames that were in flight on the link may be lost, never doubled
 *   (the inbox drops copies), and the ratchet skips what never arrived. The receiver takes the
 *   first relay frame after `switch` as the sign that the sender left the link; frames still
 *   in flight on the link then come too late and are dropped, unread.
 * - **Bound on loss.** The receiving channel skips at most 1,000 missing frames (docs/security.md).
 *   Messages may run at most `windowFrames` frames ahead of the last answered ping (a ping goes
 *   out every `pingEveryFrames`), so a fallback never loses more frames than the receiver can
 *   skip. Control frames are never held back by the window: holding a pong behind it could
 *   make two full windows wait for each other for ever.
 */
import type { PathMessage } from './path-messages.ts';

export type PathName = 'relay' | 'direct';

/** Why this side gives up the direct link (the dialer closes it and backs off). */
export type GiveUpReason = 'stall' | 'partner-left' | 'overflow';

export type PathTimer = 'stall' | 'heartbeat';

export type PathSwitchEffect =
  /** Send this frame through the relay. */
  | { type: 'relay'; frame: Uint8Array }
  /** Send this frame on the direct link. */
  | { type: 'direct'; frame: Uint8Array }
  /** Hand this frame of the partner's to the channel now, before anything else. */
  | { type: 'deliver'; frame: Uint8Array }
  /** Encrypt these through the channel back to back and pass each frame to `send`. */
  | { type: 'seal'; messages: PathMessage[] }
  /** The direct link is no good: close it. */
  | { type: 'give-up'; reason: GiveUpReason }
  /** The path this side's frames take now, as the user should see it. */
  | { type: 'path'; path: PathName }
  /** Frames on the direct link may be lost: send every unconfirmed message again. */
  | { type: 'resend' }
  /** Messages may be sealed again (`canSendData` turned true). */
  | { type: 'flush' }
  | { type: 'arm'; timer: PathTimer; ms: number }
  | { type: 'disarm'; timer: PathTimer };

/** What a frame handed to `send` carries: a message (held back by the window) or control. */
export type FrameTag = { kind: 'data' } | { kind: 'control'; message?: PathMessage };

export interface PathSwitchOptions {
  /** Messages at most this many frames ahead of the last answered ping. */
  windowFrames?: number;
  /** A ping after this many frames on the link. */
  pingEveryFrames?: number;
  /** A ping unanswered this long means the link stalled. */
  stallMs?: number;
  /** A ping at least this often while the link is quiet. */
  heartbeatMs?: number;
  /** Partner frames held from the link while its `switch` is still on the way. */
  maxHeldFrames?: number;
}

export const DEFAULT_PATH_SWITCH: Required<PathSwitchOptions> = {
  windowFrames: 256,
  pingEveryFrames: 64,
  stallMs: 10_000,
  heartbeatMs: 5_000,
  maxHeldFrames: 1024,
};

/** How this side sends: on the relay; on the link waiting for the probe's answer; on the link. */
type Sending = 'relay' | 'probing' | 'direct';

interface Link {
  attempt: number;
  open: boolean;
}

export class PathSwitch {
  readonly #options: Required<PathSwitchOptions>;
  #sending: Sending = 'relay';
  /** Where the partner's next frames are read from. */
  #cursor: PathName = 'relay';
  #link: Link | undefined;
  #relayUsable = false;
  /** A `switch` is being sealed. */
  #switchPending = false;
  /** Partner frames that came on the link before its `switch` was read. */
  #held: Uint8Array[] = [];
  #nextPing = 0;
  #probe: number | undefined;
  /** A ping is being sealed. */
  #pingPending = false;
  /** Pings sent on the link and not answered yet; `at` counts the link's frames up to it. */
  #pings: { n: number; at: number }[] = [];
  #sentOnLink = 0;
  #confirmedOnLink = 0;
  #lastPingAt = 0;

  constructor(options: PathSwitchOptions = {}) {
    this.#options = { ...DEFAULT_PATH_SWITCH, ...options };
  }

  /** The path this side's frames take, as the user should see it. */
  get path(): PathName {
    return this.#sending === 'direct' ? 'direct' : 'relay';
  }

  /** Control frames (answers, receipts, signalling) have a path now. */
  get canSendControl(): boolean {
    return this.#sending !== 'relay' || this.#relayUsable;
  }

  /** Messages may be sealed now. */
  get canSendData(): boolean {
    switch (this.#sending) {
      case 'relay':
        return this.#relayUsable;
      case 'probing':
        return false;
      case 'direct':
        return this.#sentOnLink - this.#confirmedOnLink < this.#options.windowFrames;
    }
  }

  /** The relay link is open, seated, and the partner is there. */
  setRelayUsable(usable: boolean): PathSwitchEffect[] {
    this.#relayUsable = usable;
    return this.#maybeSwitch();
  }

  /** The dialer created the direct link for `attempt` (not open yet). */
  linkStarted(attempt: number): PathSwitchEffect[] {
    const effects = this.#fallBack();
    this.#link = { attempt, open: false };
    return effects;
  }

  /** The direct link is open: upgrade when the relay can carry the `switch`. */
  linkOpened(): PathSwitchEffect[] {
    if (!this.#link) return [];
    this.#link.open = true;
    return this.#maybeSwitch();
  }

  /** The direct link is closed (by either side, or it failed): back to the relay. */
  linkDown(): PathSwitchEffect[] {
    return this.#fallBack();
  }

  /** The session ended (new partner, new handshake): nothing of the old link counts. */
  reset(): PathSwitchEffect[] {
    const effects = this.#fallBack();
    return effects.filter((effect) => effect.type === 'disarm');
  }

  /** Routes one sealed frame of this side's. */
  send(frame: Uint8Array, tag: FrameTag): PathSwitchEffect[] {
    const message = tag.kind === 'control' ? tag.message : undefined;
    if (message?.t === 'switch') {
      this.#switchPending = false;
      // Stale (the link went while it was sealed): not sent; the ratchet skips the gap.
      if (!this.#link?.open || message.attempt !== this.#link.attempt || this.#sending !== 'relay') return [];
      this.#sending = 'probing';
      return [{ type: 'relay', frame }];
    }
    if (message?.t === 'ping') this.#pingPending = false;
    if (this.#sending === 'relay') return [{ type: 'relay', frame }];

    this.#sentOnLink += 1;
    const effects: PathSwitchEffect[] = [{ type: 'direct', frame }];
    if (message?.t === 'ping') {
      this.#pings.push({ n: message.n, at: this.#sentOnLink });
      this.#lastPingAt = this.#sentOnLink;
      if (this.#pings.length === 1) effects.push({ type: 'arm', timer: 'stall', ms: this.#options.stallMs });
    } else if (
      this.#sending === 'direct' &&
      this.#sentOnLink - this.#lastPingAt >= this.#options.pingEveryFrames &&
      !this.#pingPending
    ) {
      effects.push(this.#ping());
    }
    return effects;
  }

  /**
   * One frame of the partner's, taken in arrival order (from the conversation's queue). Returns
   * `deliver` for the frames the channel must read now, in that order; the rest are held or
   * dropped. `attempt` names the direct link a frame came on.
   */
  admit(path: PathName, frame: Uint8Array, attempt?: number): PathSwitchEffect[] {
    if (path === 'relay') {
      if (this.#cursor === 'relay') return [{ type: 'deliver', frame }];
      // The partner's frames left the link: it gave up on it. Whatever it still brings is late.
      return [{ type: 'deliver', frame }, ...this.#fallBack('partner-left')];
    }
    if (!this.#link || attempt !== this.#link.attempt) return [];
    if (this.#cursor === 'direct') return [{ type: 'deliver', frame }];
    if (this.#held.length >= this.#options.maxHeldFrames) return this.#fallBack('overflow');
    this.#held.push(frame);
    return [];
  }

  /** A path message from the partner, decrypted (in the order its frames were admitted). */
  message(message: PathMessage): PathSwitchEffect[] {
    switch (message.t) {
      case 'switch': {
        if (this.#link?.attempt !== message.attempt || this.#cursor !== 'relay') return [];
        this.#cursor = 'direct';
        const held = this.#held;
        this.#held = [];
        return held.map((frame) => ({ type: 'deliver', frame }));
      }
      case 'ping':
        return [{ type: 'seal', messages: [{ t: 'pong', n: message.n }] }];
      case 'pong':
        return this.#onPong(message.n);
      default:
        return [];
    }
  }

  timeout(timer: PathTimer): PathSwitchEffect[] {
    switch (timer) {
      case 'stall':
        return this.#sending !== 'relay' && this.#pings.length > 0 ? this.#fallBack('stall') : [];
      case 'heartbeat': {
        if (this.#sending !== 'direct') return [];
        const effects: PathSwitchEffect[] = [
          { type: 'arm', timer: 'heartbeat', ms: this.#options.heartbeatMs },
        ];
        if (this.#pings.length === 0 && !this.#pingPending) effects.push(this.#ping());
        return effects;
      }
    }
  }

  #maybeSwitch(): PathSwitchEffect[] {
    const link = this.#link;
    if (!link?.open || this.#sending !== 'relay' || !this.#relayUsable || this.#switchPending) return [];
    this.#switchPending = true;
    this.#pingPending = true;
    this.#probe = this.#nextPing++;
    return [
      {
        type: 'seal',
        messages: [
          { t: 'switch', attempt: link.attempt },
          { t: 'ping', n: this.#probe },
        ],
      },
    ];
  }

  #ping(): PathSwitchEffect {
    this.#pingPending = true;
    return { type: 'seal', messages: [{ t: 'ping', n: this.#nextPing++ }] };
  }

  #onPong(n: number): PathSwitchEffect[] {
    const index = this.#pings.findIndex((ping) => ping.n === n);
    if (index < 0) return [];
    const wasBlocked = !this.canSendData;
    this.#confirmedOnLink = this.#pings[index]!.at;
    this.#pings.splice(0, index + 1);
    const effects: PathSwitchEffect[] = [{ type: 'disarm', timer: 'stall' }];
    if (this.#pings.length > 0) effects.push({ type: 'arm', timer: 'stall', ms: this.#options.stallMs });
    if (this.#sending === 'probing' && this.#probe !== undefined && n >= this.#probe) {
      this.#sending = 'direct';
      effects.push(
        { type: 'path', path: 'direct' },
        { type: 'arm', timer: 'heartbeat', ms: this.#options.heartbeatMs },
      );
    }
    if (wasBlocked && this.canSendData) effects.push({ type: 'flush' });
    return effects;
  }

  /** Back to the relay for both directions; the link, if any, is forgotten. */
  #fallBack(reason?: GiveUpReason): PathSwitchEffect[] {
    if (!this.#link) return [];
    const was = this.#sending;
    this.#link = undefined;
    this.#sending = 'relay';
    this.#cursor = 'relay';
    this.#held = [];
    this.#pings = [];
    this.#switchPending = false;
    this.#pingPending = false;
    this.#probe = undefined;
    this.#sentOnLink = 0;
    this.#confirmedOnLink = 0;
    this.#lastPingAt = 0;
    const effects: PathSwitchEffect[] = [
      { type: 'disarm', timer: 'stall' },
      { type: 'disarm', timer: 'heartbeat' },
    ];
    if (reason) effects.push({ type: 'give-up', reason });
    if (was === 'direct') effects.push({ type: 'path', path: 'relay' });
    if (was !== 'relay') effects.push({ type: 'resend' });
    return effects;
  }
}
