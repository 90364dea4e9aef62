/**
 * Copy to the clipboard with feedback that resets after a moment (Excalidraw's useCopyStatus):
 * `copied` or `failed` for two seconds, then `idle` again. The view announces the change.
 */
export const COPY_FEEDBACK_MS = 2_000;

export class CopyStatus {
  state = $state<'idle' | 'copied' | 'failed'>('idle');
  #timer: ReturnType<typeof setTimeout> | undefined;

  async copy(text: string): Promise<void> {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(text);
      this.#show('copied');
    } catch {
      this.#show('failed');
    }
  }

  #show(state: 'copied' | 'failed'): void {
    clearTimeout(this.#timer);
    this.state = state;
    this.#timer = setTimeout(() => (this.state = 'idle'), COPY_FEEDBACK_MS);
  }
}
