/**
 * The names the protocol and share links agree on (suites, room codes), free of any schema
 * library: the web app's first screen reads share links and room codes, and must not download
 * control.ts's schemas to do so. control.ts builds its schemas from these and re-exports them.
 */
export const SUITE_IDS = ['modern', 'des'] as const;
export type SuiteId = (typeof SUITE_IDS)[number];

/** Room codes: lowercase letters, digits and single hyphens, 3 to 64 characters. */
export const ROOM_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const ROOM_MIN_LENGTH = 3;
export const ROOM_MAX_LENGTH = 64;

export function isRoomCode(value: string): boolean {
  return value.length >= ROOM_MIN_LENGTH && value.length <= ROOM_MAX_LENGTH && ROOM_PATTERN.test(value);
}

export function isSuiteId(value: string): value is SuiteId {
  return (SUITE_IDS as readonly string[]).includes(value);
}
