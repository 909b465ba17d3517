/** Background removal (a JS pixel loop) in its own thread: the main thread serves /serve and heartbeats. */
import { createThreadClient } from '../threads/thread-client.js';
import type { BackgroundRemoval, RawPixels } from './remove-background.js';

export interface PixelThread {
  removeBackground(image: RawPixels): Promise<BackgroundRemoval | undefined>;
  /** Stops the thread (it starts again on the next call). */
  stop(): Promise<void>;
}

/** The thread starts on first use and is unref'd while idle, so an unused one costs nothing. */
export function createPixelThread(): PixelThread {
  const thread = createThreadClient<RawPixels, BackgroundRemoval | undefined>(
    'pixel worker',
    (extension) => new URL(`./pixel-worker.${extension}`, import.meta.url),
  );
  return {
    removeBackground(image) {
      // Copy into a transferable buffer: sharp's output may share a pooled ArrayBuffer.
      const data = new Uint8Array(image.data);
      return thread.call({ ...image, data }, [data.buffer]);
    },
    stop: () => thread.stop(),
  };
}
