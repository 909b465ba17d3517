/** Worker-thread entry: pixel loops that must not run on the main thread (it serves /serve and heartbeats). */
import { parentPort } from 'node:worker_threads';
import { serveThreadRequests } from '../threads/thread-client.js';
import { removeBackground, type BackgroundRemoval, type RawPixels } from './remove-background.js';

serveThreadRequests<RawPixels, BackgroundRemoval | undefined>(parentPort, (image) => {
  const result = removeBackground(image);
  return Promise.resolve({ result, transfer: result ? [result.rgba.buffer as ArrayBuffer] : [] });
});
