/** Close codes (RFC 6455 §7.4.1) the relay sends itself; ws adds 1002, 1007 and 1009. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  /** Never sent: what ws reports when a connection ended without a closing handshake. */
  abnormal: 1006,
  internalError: 1011,
  /** With REDIS_URL: this node was taken for crashed and its seats held; clients should resume. */
  serviceRestart: 1012,
  tryAgainLater: 1013,
} as const;

/** Close codes with which a client says it is done; its seat is freed at once. */
export const DELIBERATE_CLOSES: ReadonlySet<number> = new Set<number>([1000, 1001, 1005]);
