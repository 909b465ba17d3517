/**
 * One lazily started worker thread for JS pixel loops (background removal),
 * shared by all items of the process, unref'd so it never holds the process
 * open. Runs the compiled .js beside this file, or the .ts source under tsx
 * when running from sources (tests).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BackgroundRemoval, RawPixels } from './remove-background.js';

let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<
  number,
  { resolve: (value: BackgroundRemoval | undefined) => void; reject: (error: Error) => void }
>();

function failAll(error: Error): void {
  for (const { reject } of pending.values()) reject(error);
  pending.clear();
  worker = undefined;
}

function getWorker(): Worker {
  if (worker) return worker;
  const started = import.meta.url.endsWith('.ts')
    ? startFromSource()
    : new Worker(new URL('./pixel-worker.js', import.meta.url));
  started.unref();
  started.on('message', (message: { id: number; result?: BackgroundRemoval; error?: string }) => {
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (pending.size === 0) started.unref();
    if (message.error !== undefined) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.result);
  });
  started.on('error', failAll);
  started.on('exit', (code) => failAll(new Error(`pixel worker thread exited with code ${code}`)));
  worker = started;
  return started;
}

/** Running from TypeScript sources (tests): register tsx inside the thread, then load the .ts entry. */
function startFromSource(): Worker {
  const tsxCjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  const tsx = pathToFileURL(tsxCjs.replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./pixel-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true });
}

export function removeBackgroundInThread(image: RawPixels): Promise<BackgroundRemoval | undefined> {
  const thread = getWorker();
  const id = nextId++;
  // Copy into a transferable buffer: sharp's output may share a pooled ArrayBuffer.
  const data = new Uint8Array(image.data);
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    thread.ref();
    thread.postMessage({ id, image: { ...image, data } }, [data.buffer]);
  });
}

/** For tests and shutdown: stop the thread. */
export async function stopPixelThread(): Promise<void> {
  const current = worker;
  worker = undefined;
  await current?.terminate();
}
