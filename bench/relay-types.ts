/** What every relay under test looks like from its child process. */
export interface BenchRelay {
  /** The loopback port it listens on. */
  port: number;
  close(): Promise<void>;
}
