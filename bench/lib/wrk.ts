/**
 * Load from `wrk` (Debian package `wrk`): a separate C process, so the load
 * generator costs far less CPU than an in-process client on a 2-core machine.
 * A Lua script cycles through `paths` and prints one JSON line at the end.
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export interface WrkOptions {
  /** http://host:port */
  origin: string;
  /** Request paths, used in turn. */
  paths: string[];
  connections: number;
  durationSeconds: number;
  /** wrk threads (default 1: the other core is the server's). */
  threads?: number;
  /** Sent with every request (Accept, If-None-Match). */
  headers?: Record<string, string>;
}

export interface WrkResult {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers with a status ≥ 400 (wrk's "Non-2xx or 3xx"). */
  errorStatus: number;
  /** Connect, read, write errors and timeouts. */
  socketErrors: number;
  bytesRead: number;
}

export function hasWrk(): boolean {
  return spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status === 0;
}

function script(paths: string[], headers: Record<string, string>): string {
  const table = Object.entries(headers)
    .map(([name, value]) => `[${JSON.stringify(name)}] = ${JSON.stringify(value)}`)
    .join(', ');
  return `local paths = { ${paths.map((p) => JSON.stringify(p)).join(', ')} }
local headers = { ${table} }
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK-JSON {"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"status":%d,"socket":%d,"bytes":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout, summary.bytes))
end
`;
}

export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-wrk-'));
  const file = path.join(dir, 'paths.lua');
  fs.writeFileSync(file, script(options.paths, options.headers ?? {}));
  try {
    const { stdout } = await promisify(execFile)('wrk', [
      `-t${options.threads ?? 1}`,
      `-c${options.connections}`,
      `-d${options.durationSeconds}s`,
      '-s',
      file,
      options.origin,
    ]);
    const line = stdout.split('\n').find((l) => l.startsWith('WRK-JSON '));
    if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
    const raw = JSON.parse(line.slice('WRK-JSON '.length)) as Record<string, number>;
    return {
      requests: raw.requests!,
      requestsPerSecond: raw.requests! / (raw.durationUs! / 1e6),
      p50Ms: raw.p50Us! / 1000,
      p99Ms: raw.p99Us! / 1000,
      errorStatus: raw.status!,
      socketErrors: raw.socket!,
      bytesRead: raw.bytes!,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
