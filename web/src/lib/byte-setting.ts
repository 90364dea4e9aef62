/**
 * A byte count set when the app is built (`VITE_…`, README, Settings): a whole number of bytes,
 * 0 or more; anything else (unset, empty, `2GB`, `-1`, `1.5`) keeps the default.
 */
export function byteSetting(value: unknown, fallback: number): number {
  if (typeof value !== 'string' || !/^\d+$/.test(value.trim())) return fallback;
  const bytes = Number(value.trim());
  return Number.isSafeInteger(bytes) ? bytes : fallback;
}
