/** Background removal (a JS pixel loop) in its own thread: the main thread serves /serve and heartbeats. */
import { createThreadClient } from '../threads/thread-client.js';
import type { BackgroundRemoval, RawPixels } from './remove-background.js';

const thread = createThreadClient<RawPixels, BackgroundRemoval | undefined>(
  'pixel worker',
  (extension) => new URL(`./pixel-worker.${extension}`, import.meta.url),
);

export function removeBackgroundInThread(image: RawPixels): Promise<BackgroundRemoval | undefined> {
  // Copy into a transferable buffer: sharp's output may share a pooled ArrayBuffer.
  const data = new Uint8Array(image.data);
  return thread.call({ ...image, data }, [data.buffer]);
}

/** For tests and shutdown: stop the thread. */
export function stopPixelThread(): Promise<void> {
  return thread.stop();
}
