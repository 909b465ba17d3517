/**
 * Leak check (graphile-worker style): what a test leaves running fails it. `snapshot()` before, then
 * `settledLeaks(before)` after: it polls (sockets and children close asynchronously) until nothing
 * is left over, or reports what still is. Wired into every test file by test/helpers/leak-check-setup.ts.
 *
 * Three views, each compared with the snapshot:
 * - handles by identity (`process._getActiveHandles()`): servers, sockets, child processes, pipes…
 *   that are new; so closing a shared server cannot hide a new one;
 * - counts per type (`process.getActiveResourcesInfo()`): ref'd timers ('Timeout'), immediates and
 *   pending requests ('FSReqCallback'…), which have no handle object; unref'd ones keep nothing alive
 *   and are not counted by Node either;
 * - knex pools opened and not destroyed (better-sqlite3 holds no handle at all).
 *
 * Not leaks of a test: connections a server that was already running accepted (keep-alive, closed
 * with that server), connections and the reaping timer of a knex pool that was already open.
 */
import { createHook } from 'node:async_hooks';
import { ChildProcess } from 'node:child_process';
import net from 'node:net';

export interface Snapshot {
  handles: Set<object>;
  counts: Map<string, number>;
  pools: Set<TrackedPool>;
  /** Pools open at the snapshot that had their reaping interval (a 'Timeout') running. */
  reaping: Set<TrackedPool>;
  /** With LEAK_CHECK_TRACE: timers alive at the snapshot. */
  timers: Set<object>;
}

export interface Leak {
  type: string;
  count: number;
  details: string[];
}

interface TrackedPool {
  client: KnexClient;
  what: string;
  createdAt: string;
}

interface KnexClient {
  pool?: { interval?: unknown; used?: { resource: unknown }[]; free?: { resource: unknown }[] };
  config?: { client?: unknown; connection?: { filename?: string; database?: string; port?: number } };
}

const openPools = new Set<TrackedPool>();
const fixtures = new WeakSet<object>();

/**
 * A fixture a test may (re)create that the file shares (a database server a test restarts): not a
 * leak of that test; the file-level check still wants it gone by the end of the file.
 */
export function outlivesTest(handle: object): void {
  fixtures.add(handle);
}

type InitializePool = (this: KnexClient, ...args: unknown[]) => unknown;

/** Counts every knex pool from now on; call once per process with knex's `Client` class. */
export function trackKnexPools(Client: { prototype: object }): void {
  const proto = Client.prototype as { initializePool: InitializePool; __leakTracked?: true };
  if (proto.__leakTracked) return;
  const original = proto.initializePool;
  proto.initializePool = function (this: KnexClient, ...args: unknown[]) {
    const result = original.apply(this, args);
    const conn = this.config?.connection;
    const where = conn?.filename ?? `${conn?.database ?? '?'} on port ${conn?.port ?? '?'}`;
    openPools.add({ client: this, what: `${String(this.config?.client)} ${where}`, createdAt: callerIn() });
    return result;
  };
  proto.__leakTracked = true;
}

function livePools(): Set<TrackedPool> {
  for (const pool of openPools) if (!pool.client.pool) openPools.delete(pool);
  return new Set(openPools);
}

function activeHandles(): object[] {
  const get = (process as unknown as { _getActiveHandles?: () => object[] })._getActiveHandles;
  return get ? get.call(process) : [];
}

function countResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

export function snapshot(): Snapshot {
  const pools = livePools();
  return {
    handles: new Set(activeHandles()),
    counts: countResources(),
    pools,
    reaping: new Set([...pools].filter((p) => p.client.pool?.interval)),
    timers: new Set(liveTimers.keys()),
  };
}

/** What is running now that was not at `before`; empty when nothing leaked. `perTest` excuses fixtures. */
export function findLeaks(before: Snapshot, perTest = false): Leak[] {
  const now = snapshot();
  const leaks: Leak[] = [];
  const oldPools = [...now.pools].filter((p) => before.pools.has(p));
  const ownedByOld = new Set<unknown>(oldPools.flatMap(poolSockets));
  // Reaping intervals of pools the test did not open: started ones are theirs, stopped ones no credit.
  const started = oldPools.filter((p) => now.reaping.has(p) && !before.reaping.has(p)).length;
  const stopped = [...before.reaping].filter((p) => !now.reaping.has(p)).length;
  const excused = new Map<string, number>([['Timeout', started - stopped]]);
  const fresh = new Map<string, string[]>();
  for (const handle of now.handles) {
    if (before.handles.has(handle)) continue;
    const type = handleType(handle);
    const server = (handle as { server?: unknown }).server;
    const fixture = perTest && fixtures.has(handle);
    if (fixture || ownedByOld.has(handle) || (server !== undefined && before.handles.has(server as object))) {
      excused.set(type, (excused.get(type) ?? 0) + 1);
      continue;
    }
    fresh.set(type, [...(fresh.get(type) ?? []), describeHandle(handle)]);
  }
  for (const [type, details] of fresh) leaks.push({ type, count: details.length, details });
  for (const [type, count] of now.counts) {
    const excess = count - (before.counts.get(type) ?? 0) - (excused.get(type) ?? 0);
    const shown = fresh.get(type)?.length ?? 0;
    if (excess > shown) {
      const details = type === 'Timeout' ? newTimers(before) : [];
      leaks.push({ type, count: excess - shown, details });
    }
  }
  const pools = [...now.pools].filter((p) => !before.pools.has(p));
  if (pools.length > 0)
    leaks.push({
      type: 'knex pool (Db not destroyed)',
      count: pools.length,
      details: pools.map((p) => `${p.what}, opened ${p.createdAt}`),
    });
  return leaks;
}

/** Polls `findLeaks` for up to `settleMs`: what is closing asynchronously gets the time to finish. */
export async function settledLeaks(before: Snapshot, settleMs = 2000, perTest = false): Promise<Leak[]> {
  const step = 25;
  let leaks = findLeaks(before, perTest);
  for (let waited = 0; leaks.length > 0 && waited < settleMs; waited += step) {
    await new Promise((resolve) => realSetTimeout(resolve, step));
    leaks = findLeaks(before, perTest);
  }
  return leaks;
}

export function describeLeaks(leaks: Leak[], where: string): string {
  const lines = leaks.flatMap((leak) => [
    `  ${leak.type} ×${leak.count}`,
    ...leak.details.map((detail) => `    - ${detail}`),
  ]);
  const hint = traceEnabled ? '' : '\n(LEAK_CHECK_TRACE=1 shows where timers and handles were created)';
  return `${where} left running:\n${lines.join('\n')}${hint}`;
}

// Captured before any test can install fake timers.
const realSetTimeout = globalThis.setTimeout;

function poolSockets(pool: TrackedPool): unknown[] {
  const p = pool.client.pool;
  return [...(p?.used ?? []), ...(p?.free ?? [])].map((r) => (r.resource as { stream?: unknown }).stream);
}

function handleType(handle: object): string {
  if (handle instanceof ChildProcess) return 'ProcessWrap';
  const inner = (handle as { _handle?: { constructor?: { name?: string } } })._handle?.constructor?.name;
  if (handle instanceof net.Server) return inner === 'Pipe' ? 'PipeServerWrap' : 'TCPServerWrap';
  if (handle instanceof net.Socket) {
    if (inner === 'TCP') return 'TCPSocketWrap';
    if (inner === 'TTY') return 'TTYWrap';
    return 'PipeWrap';
  }
  return handle.constructor?.name ?? 'handle';
}

function describeHandle(handle: object): string {
  const trace = createdAt(handle);
  if (handle instanceof ChildProcess) {
    return `child pid ${handle.pid ?? '?'}: ${handle.spawnargs.join(' ')}${trace}`;
  }
  if (handle instanceof net.Server) {
    const address = handle.address();
    const at = typeof address === 'string' ? address : address ? `${address.address}:${address.port}` : '?';
    return `server listening on ${at}${trace}`;
  }
  if (handle instanceof net.Socket) {
    if (handle.remotePort !== undefined) {
      const side = (handle as { server?: unknown }).server ? 'accepted connection' : 'connection';
      return `${side} ${handle.localAddress}:${handle.localPort} ↔ ${handle.remoteAddress}:${handle.remotePort}${trace}`;
    }
    const fd = (handle as { _handle?: { fd?: number } })._handle?.fd;
    return `pipe/socket fd ${fd ?? '?'}${trace}`;
  }
  return `${handleType(handle)}${trace}`;
}

/** Where the leaked thing was made: the first frame of ours, and the test file's frame below it. */
function callerIn(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const frames = stack
    .split('\n')
    .slice(1)
    .map((f) => f.trim().replace(/^at /, ''))
    .filter((f) => !/node_modules|node:|\/helpers\/leak-check/.test(f));
  const first = frames[0];
  const test = frames.find((f) => f.includes('.test.ts'));
  if (!first) return '(unknown)';
  return test && test !== first ? `${first} ← ${test}` : first;
}

// --- LEAK_CHECK_TRACE=1: where timers and handles were created (async_hooks; slower, so opt-in) ---

const traceEnabled = process.env.LEAK_CHECK_TRACE === '1';
const liveTimers = new Map<object, string>();
const handleOrigins = new WeakMap<object, string>();

if (traceEnabled) {
  const ids = new Map<number, object>();
  createHook({
    init(asyncId, type, _trigger, resource) {
      if (type === 'PROMISE') return;
      const where = callerIn();
      if (type === 'Timeout') {
        liveTimers.set(resource, where);
        ids.set(asyncId, resource);
      } else handleOrigins.set(resource, where);
    },
    destroy(asyncId) {
      const resource = ids.get(asyncId);
      if (resource) liveTimers.delete(resource);
      ids.delete(asyncId);
    },
  }).enable();
}

function createdAt(handle: object): string {
  const inner = (handle as { _handle?: object })._handle;
  const where = inner ? handleOrigins.get(inner) : undefined;
  return where ? `, created at ${where}` : '';
}

function newTimers(before: Snapshot): string[] {
  const out: string[] = [];
  for (const [timer, where] of liveTimers) {
    const t = timer as { hasRef?: () => boolean; _destroyed?: boolean; _idleTimeout?: number };
    if (before.timers.has(timer) || t._destroyed || t.hasRef?.() === false) continue;
    out.push(`${t._idleTimeout ?? '?'} ms timer created at ${where}`);
  }
  return out;
}
