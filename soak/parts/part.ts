/** What each soak part reports: whether its promise held, and the figures it measured. */
export interface PartResult {
  ok: boolean;
  /** Printed in this order, and written to soak/results/latest.json. */
  figures: Record<string, number | string>;
}

export interface PartOptions {
  /** The part stops starting new work after this long (it still finishes and checks what it began). */
  budgetMs: number;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)]!;
};

export const mib = (bytes: number): number => Math.round((bytes / (1024 * 1024)) * 10) / 10;
