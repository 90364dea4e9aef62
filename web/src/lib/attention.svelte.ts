/**
 * What tells a reader that the partner wrote while they were not looking: a count of unseen
 * messages (in the "↓ N new" button, and in the tab title while the tab is hidden), and,
 * if they opt in, a desktop notification that never holds the message's text.
 */
export const BASE_TITLE = 'Duet: end-to-end encrypted chat for two';

export type NotificationState = 'off' | 'on' | 'blocked' | 'unsupported';

export class Attention {
  hidden = $state(false);
  /** Incoming messages the reader has not seen yet. */
  unseen = $state(0);
  notifications = $state<NotificationState>('off');
  #onVisibility = () => (this.hidden = document.visibilityState === 'hidden');

  constructor() {
    this.hidden = document.visibilityState === 'hidden';
    document.addEventListener('visibilitychange', this.#onVisibility);
    if (typeof Notification === 'undefined') this.notifications = 'unsupported';
    else if (Notification.permission === 'denied') this.notifications = 'blocked';
  }

  get title(): string {
    return this.hidden && this.unseen > 0 ? `(${this.unseen}) ${BASE_TITLE}` : BASE_TITLE;
  }

  /** `count` new incoming messages; `inView` when the reader is at the bottom of a visible tab. */
  arrived(count: number, inView: boolean): void {
    if (count <= 0) return;
    if (this.hidden || !inView) this.unseen += count;
    if (this.hidden && this.notifications === 'on') {
      // Never the text: a notification can show on a locked screen or be read by other apps.
      new Notification('Duet', { body: 'New message from your partner', tag: 'duet-message' });
    }
  }

  seen(): void {
    this.unseen = 0;
  }

  async toggleNotifications(): Promise<void> {
    if (this.notifications === 'on') {
      this.notifications = 'off';
      return;
    }
    if (this.notifications === 'unsupported') return;
    const permission =
      Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission();
    this.notifications = permission === 'granted' ? 'on' : permission === 'denied' ? 'blocked' : 'off';
  }

  destroy(): void {
    document.removeEventListener('visibilitychange', this.#onVisibility);
    document.title = BASE_TITLE;
  }
}
