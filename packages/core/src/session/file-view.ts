/**
 * A transfer as the UI shows it (`FileView`), built from the sender's or receiver's machine.
 * The states are the app's stable contract (SPEC: `file` elements' `data-state`).
 */
import type { ErrorCode } from '../errors.ts';
import type { FileReceiver } from './file-receiver.ts';
import type { FileSender } from './file-sender.ts';
import type { Throughput } from './throughput.ts';

export type FileState = 'offered' | 'transferring' | 'done' | 'failed' | 'cancelled';

/** Who ended a cancelled transfer. */
export type CancelledBy = 'you' | 'partner';

export interface FileView<Result> {
  /** 32 hex digits, stable for the transfer's life. */
  readonly id: string;
  readonly direction: 'in' | 'out';
  /** The sender's name for it: untrusted text (render as text; safeFileName to save). */
  readonly name: string;
  readonly size: number;
  readonly mime: string;
  readonly state: FileState;
  /** Bytes the receiver has stored (and, outgoing, confirmed). */
  readonly bytes: number;
  /** While transferring, once measurable. */
  readonly bytesPerSecond: number | undefined;
  readonly secondsLeft: number | undefined;
  /** Why it failed. */
  readonly code: ErrorCode | undefined;
  /** Cancelled: by whom, and whether it was an offer refused. */
  readonly cancelledBy: CancelledBy | undefined;
  readonly declined: boolean;
  /** Incoming and done: the file (a Blob in the browser, a path in Node). */
  readonly result: Result | undefined;
}

/** Image types shown inline (raster only: an SVG can carry script and links). */
export const PREVIEWABLE_TYPES: ReadonlySet<string> = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
]);

/** An image type the app previews inline (and so accepts without asking when small). */
export function isPreviewable(mime: string): boolean {
  return PREVIEWABLE_TYPES.has(mime.toLowerCase());
}

const SENDER_STATES = {
  offered: 'offered',
  sending: 'transferring',
  verifying: 'transferring',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
} as const satisfies Record<FileSender['phase'], FileState>;

const RECEIVER_STATES = {
  offered: 'offered',
  accepting: 'transferring',
  receiving: 'transferring',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
} as const satisfies Record<FileReceiver<unknown>['phase'], FileState>;

/** The view of an outgoing transfer; records its progress in `speed` at `now`. */
export function outgoingView(
  id: string,
  sender: FileSender,
  speed: Throughput,
  now: number,
): FileView<never> {
  const state = SENDER_STATES[sender.phase];
  const bytes = sender.confirmedBytes;
  return {
    id,
    direction: 'out',
    ...sender.meta,
    state,
    bytes,
    ...rates(state, speed, now, bytes, sender.meta.size),
    code: sender.code,
    cancelledBy: sender.cancelledBy,
    declined: sender.declined,
    result: undefined,
  };
}

/** The view of an incoming transfer; records its progress in `speed` at `now`. */
export function incomingView<Result>(
  id: string,
  receiver: FileReceiver<Result>,
  speed: Throughput,
  now: number,
): FileView<Result> {
  const state = RECEIVER_STATES[receiver.phase];
  const bytes = receiver.storedBytes;
  return {
    id,
    direction: 'in',
    ...receiver.meta,
    state,
    bytes,
    ...rates(state, speed, now, bytes, receiver.meta.size),
    code: receiver.code,
    cancelledBy: receiver.cancelledBy,
    declined: receiver.declined,
    result: receiver.result,
  };
}

function rates(state: FileState, speed: Throughput, now: number, bytes: number, size: number) {
  if (state !== 'transferring') return { bytesPerSecond: undefined, secondsLeft: undefined };
  speed.record(now, bytes);
  return { bytesPerSecond: speed.bytesPerSecond(now), secondsLeft: speed.secondsLeft(now, size) };
}
