/**
 * The files of one conversation, as Svelte state. Core's file transfer (packages/core,
 * session/file-transfer.ts) does the work: chunks sealed by the channel, resume, the SHA-256
 * check. This class gives it the browser's I/O (a `File` read in slices, Blob parts for what
 * arrives), turns its views into state at most ten times a second, and owns the `blob:` URLs of
 * verified files (made once, revoked when the conversation ends).
 */
import type { ErrorCode } from '@duet/core/errors';
import type { Conversation } from '@duet/core/session/conversation';
import { blobSink, blobSource } from '@duet/core/session/file-io';
import { safeFileName } from '@duet/core/session/file-name';
import {
  attachFileTransfers,
  DEFAULT_AUTO_ACCEPT_BYTES,
  DEFAULT_MAX_FILE_BYTES,
  type FileTransfers,
  type FileView,
} from '@duet/core/session/file-transfer';
import { isPreviewable } from '@duet/core/session/file-view';
import { byteSetting } from './byte-setting.ts';

export interface ShownFile {
  view: FileView<Blob>;
  /**
   * A `blob:` URL: of a verified incoming file (the preview and the download link), or of an
   * outgoing image (its preview: the sender sees what it sent).
   */
  url: string | undefined;
  /** The name for the `download` attribute: sanitised (the shown name is the sender's, as text). */
  downloadName: string;
  /** An image shown inline (raster types only). */
  preview: boolean;
}

/** Something the user tried that was refused before anything was sent. */
export interface FileNotice {
  code: ErrorCode;
  name: string;
  size: number;
}

/** Progress is shown at most this often; a change of state at once. */
const REFRESH_MS = 100;

/** The largest file, from the build (`VITE_MAX_FILE_BYTES`), else core's 2 GiB. */
export function configuredMaxFileBytes(): number {
  const bytes = byteSetting(import.meta.env.VITE_MAX_FILE_BYTES, DEFAULT_MAX_FILE_BYTES);
  return bytes > 0 ? bytes : DEFAULT_MAX_FILE_BYTES;
}

/** Images up to this size are taken without asking (`VITE_AUTO_ACCEPT_IMAGE_BYTES`; 0: always ask). */
export function configuredAutoAcceptBytes(): number {
  return byteSetting(import.meta.env.VITE_AUTO_ACCEPT_IMAGE_BYTES, DEFAULT_AUTO_ACCEPT_BYTES);
}

export class FileShelf {
  /** Every transfer of this conversation, by id. */
  items = $state<Record<string, ShownFile>>({});
  /** The last file refused before sending (too large, say), until the next attempt. */
  notice = $state<FileNotice | null>(null);
  readonly maxFileBytes: number;

  readonly #transfers: FileTransfers<Blob>;
  readonly #onAdded: (id: string, direction: 'in' | 'out') => void;
  readonly #urls: string[] = [];
  // Bookkeeping, not state: nothing renders from these two maps.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #pending = new Map<string, FileView<Blob>>();
  /** Outgoing images, until their preview URL is made. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #outgoingImages = new Map<string, File>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    conversation: Conversation,
    options: { onAdded: (id: string, direction: 'in' | 'out') => void; maxFileBytes?: number },
  ) {
    this.#onAdded = options.onAdded;
    this.maxFileBytes = options.maxFileBytes ?? configuredMaxFileBytes();
    const autoAcceptBytes = configuredAutoAcceptBytes();
    this.#transfers = attachFileTransfers<Blob>(conversation, {
      timers: {
        set: (callback, ms) => setTimeout(callback, ms),
        clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
      },
      openSink: async (meta) => blobSink(meta.mime),
      maxFileBytes: this.maxFileBytes,
      // 0 asks for every image, even an empty one.
      ...(autoAcceptBytes === 0 ? { autoAccept: () => false } : { autoAcceptBytes }),
      onChange: (view) => this.#onChange(view),
    });
  }

  /** False with `des`: it carries no files. */
  get supported(): boolean {
    return this.#transfers.supported;
  }

  /** Offers each file to the partner; a refused one (too large, say) becomes the notice. */
  send(files: Iterable<File>): void {
    this.notice = null;
    for (const file of files) {
      try {
        const id = this.#transfers.send(blobSource(file), { name: file.name, mime: file.type });
        if (isPreviewable(file.type)) {
          this.#outgoingImages.set(id, file);
          const shown = this.items[id];
          if (shown) this.#show(shown.view);
        }
      } catch (error) {
        const code = (error as { code?: ErrorCode }).code ?? 'bad-input';
        this.notice = { code, name: file.name, size: file.size };
      }
    }
  }

  accept(id: string): void {
    this.#transfers.accept(id);
  }

  /** Cancels a transfer, or declines an offer. */
  cancel(id: string): void {
    this.#transfers.cancel(id);
  }

  /** The conversation is over: the files' URLs go (core has thrown away what was in progress). */
  destroy(): void {
    clearTimeout(this.#timer);
    for (const url of this.#urls.splice(0)) URL.revokeObjectURL(url);
  }

  #onChange(view: FileView<Blob>): void {
    const shown = this.items[view.id];
    if (!shown || shown.view.state !== view.state) {
      this.#pending.delete(view.id);
      this.#show(view);
      if (!shown) this.#onAdded(view.id, view.direction);
      return;
    }
    this.#pending.set(view.id, view);
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      for (const pending of this.#pending.values()) this.#show(pending);
      this.#pending.clear();
    }, REFRESH_MS);
  }

  #show(view: FileView<Blob>): void {
    const before = this.items[view.id];
    let url = before?.url;
    const blob = view.state === 'done' && view.result ? view.result : this.#outgoingImages.get(view.id);
    if (!url && blob) {
      url = URL.createObjectURL(blob);
      this.#urls.push(url);
      this.#outgoingImages.delete(view.id);
    }
    this.items[view.id] = {
      view,
      url,
      downloadName: safeFileName(view.name),
      preview: isPreviewable(view.mime),
    };
  }
}
