/**
 * A bounded /serve load on 127.0.0.1 while chaos goes on: a few concurrent
 * loops GET variants of completed items from a live process, stopping after
 * `maxRequests` or `maxMs`, whichever comes first. A refused or reset
 * connection (the process was just killed) is counted apart and retried
 * elsewhere; it is not a 5xx. Every 200 must carry its whole body.
 */
import http from 'node:http';

export interface HammerOptions {
  /** Ports of the processes alive right now. */
  ports: () => number[];
  /** Media ids known to be completed right now. */
  completedIds: () => number[];
  maxRequests: number;
  maxMs: number;
  concurrency: number;
}

export interface HammerReport {
  requests: number;
  ok: number;
  connectionErrors: number;
  byStatus: Record<string, number>;
  /** 5xx and file_missing answers for completed items, and 200s shorter than their Content-Length. */
  failures: string[];
}

const SIZES = ['thumbnail', 'small', 'grid', 'detail'];
const FORMATS = ['avif', 'webp', 'jpeg', undefined];

interface Answer {
  status: number;
  length: number;
  declared: number;
  body: string;
}

function get(port: number, url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: url, timeout: 15_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: response.statusCode ?? 0,
          length: body.length,
          declared: Number(response.headers['content-length'] ?? -1),
          body: response.statusCode === 200 ? '' : body.toString('utf8', 0, 300),
        });
      });
    });
    request.on('timeout', () => request.destroy(new Error('timed out after 15 s')));
    request.on('error', reject);
  });
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

export function startServeHammer(options: HammerOptions): { stop: () => Promise<HammerReport> } {
  const report: HammerReport = { requests: 0, ok: 0, connectionErrors: 0, byStatus: {}, failures: [] };
  const deadline = Date.now() + options.maxMs;
  let stopped = false;
  const more = () => !stopped && report.requests < options.maxRequests && Date.now() < deadline;
  const loop = async () => {
    while (more()) {
      const ids = options.completedIds();
      const ports = options.ports();
      if (ids.length === 0 || ports.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      const id = pick(ids);
      const format = pick(FORMATS);
      const url = `/serve/${id}?size=${pick(SIZES)}${format ? `&format=${format}` : ''}`;
      const port = pick(ports);
      report.requests++;
      try {
        const answer = await get(port, url);
        report.byStatus[answer.status] = (report.byStatus[answer.status] ?? 0) + 1;
        if (answer.status >= 500)
          report.failures.push(`GET ${url} on port ${port} → ${answer.status} ${answer.body}`);
        else if (answer.status === 404 && answer.body.includes('file_missing'))
          report.failures.push(`GET ${url} on port ${port} → 404 file_missing ${answer.body}`);
        else if (answer.status === 200 && answer.length !== answer.declared)
          report.failures.push(
            `GET ${url} on port ${port} → 200 with ${answer.length} bytes, Content-Length ${answer.declared}`,
          );
        else if (answer.status === 200) report.ok++;
      } catch {
        // ECONNREFUSED / ECONNRESET / socket hang up: the process was killed; try another.
        report.connectionErrors++;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };
  const loops = Array.from({ length: options.concurrency }, loop);
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      return report;
    },
  };
}
