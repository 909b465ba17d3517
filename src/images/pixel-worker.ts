/** Worker-thread entry: pixel loops that must not run on the main thread (it serves /serve and heartbeats). */
import { parentPort } from 'node:worker_threads';
import { removeBackground, type RawPixels } from './remove-background.js';

interface Request {
  id: number;
  image: RawPixels;
}

parentPort?.on('message', (request: Request) => {
  try {
    const result = removeBackground(request.image);
    parentPort!.postMessage({ id: request.id, result }, result ? [result.rgba.buffer as ArrayBuffer] : []);
  } catch (error) {
    parentPort!.postMessage({ id: request.id, error: (error as Error).message });
  }
});
