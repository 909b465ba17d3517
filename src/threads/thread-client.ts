/**
 * A lazily started worker thread answering requests one message at a time,
 * shared by all items of the process and unref'd while idle so it never holds
 * the process open. Runs the compiled .js entry beside the caller, or the .ts
 * source under tsx when running from sources (tests).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type MessagePort, type TransferListItem } from 'node:worker_threads';

/** What a thread entry posts back for request `id`. */
export interface ThreadReply<Result> {
  id: number;
  result?: Result;
  error?: string;
}

export interface ThreadClient<Request, Result> {
  call(request: Request, transfer?: readonly TransferListItem[]): Promise<Result>;
  stop(): Promise<void>;
}

/** @param entry the thread's module, as a URL of its .js or .ts file (the extension follows the caller's). */
export function createThreadClient<Request, Result>(
  name: string,
  entry: (extension: 'js' | 'ts') => URL,
): ThreadClient<Request, Result> {
  let worker: Worker | undefined;
  let nextId = 0;
  const pending = new Map<number, { resolve: (value: Result) => void; reject: (error: Error) => void }>();

  function failAll(error: Error): void {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
    worker = undefined;
  }

  function getWorker(): Worker {
    if (worker) return worker;
    const started = import.meta.url.endsWith('.ts') ? startFromSource(entry('ts')) : new Worker(entry('js'));
    started.unref();
    started.on('message', (message: ThreadReply<Result>) => {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (pending.size === 0) started.unref();
      if (message.error !== undefined) waiter?.reject(new Error(message.error));
      else waiter?.resolve(message.result as Result);
    });
    started.on('error', failAll);
    started.on('exit', (code) => failAll(new Error(`${name} thread exited with code ${code}`)));
    worker = started;
    return started;
  }

  return {
    call(request, transfer = []) {
      const thread = getWorker();
      const id = nextId++;
      return new Promise<Result>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        thread.ref();
        thread.postMessage({ id, request }, transfer);
      });
    },
    async stop() {
      const current = worker;
      worker = undefined;
      await current?.terminate();
    },
  };
}

/** Running from TypeScript sources (tests): register tsx inside the thread, then load the .ts entry. */
function startFromSource(entry: URL): Worker {
  const tsxCjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  const tsx = pathToFileURL(tsxCjs.replace(/\.cjs$/, '.mjs')).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true });
}

/**
 * The thread side: answer each request with `handle`, one at a time (a
 * request's memory is released before the next starts), errors as messages.
 */
export function serveThreadRequests<Request, Result>(
  port: MessagePort | null,
  handle: (request: Request) => Promise<{ result: Result; transfer?: TransferListItem[] }>,
): void {
  let queue: Promise<void> = Promise.resolve();
  port?.on('message', (message: { id: number; request: Request }) => {
    queue = queue.then(() =>
      handle(message.request).then(
        ({ result, transfer = [] }) => port.postMessage({ id: message.id, result }, transfer),
        (error: unknown) =>
          port.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
      ),
    );
  });
}
