/**
 * A fake main API: a real HTTP server on 127.0.0.1 implementing CONTRACT.md
 * (pending list, temp files, complete, cleanup), recording every request,
 * with scripted faults (5xx, 429 + Retry-After, slow answers, dropped
 * connections mid-body, 401).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeUpload {
  id: number;
  userId?: number;
  imagePath: string;
  /** Bytes served at imagePath; undefined → 404. */
  file?: Buffer;
  extra?: Record<string, unknown>;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export type Fault = '500' | '429' | 'slow' | 'drop' | '401';

export interface FaultRule {
  method?: string;
  path: RegExp;
  fault: Fault;
  times: number;
}

export class FakeMainApi {
  readonly requests: RecordedRequest[] = [];
  readonly pending = new Map<number, FakeUpload>();
  readonly files = new Map<string, Buffer>();
  /** Raw entries added to the pending list as they are (malformed ones included). */
  readonly rawEntries: unknown[] = [];
  readonly faults: FaultRule[] = [];
  slowMs = 1500;
  private server: http.Server | undefined;
  url = '';

  add(upload: FakeUpload): void {
    this.pending.set(upload.id, upload);
    if (upload.file) this.files.set(upload.imagePath, upload.file);
  }

  calls(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.url));
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        this.requests.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body,
          at: Date.now(),
        });
        this.answer(req, res, body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private takeFault(method: string, url: string): Fault | undefined {
    const rule = this.faults.find(
      (f) => f.times > 0 && (!f.method || f.method === method) && f.path.test(url),
    );
    if (!rule) return undefined;
    rule.times--;
    return rule.fault;
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const fault = this.takeFault(method, url);
    if (fault === '500') return void res.writeHead(500).end('{"error":"boom"}');
    if (fault === '401') return void res.writeHead(401).end('{"error":"bad key"}');
    if (fault === '429') return void res.writeHead(429, { 'Retry-After': '1' }).end('{"error":"slow down"}');
    if (fault === 'slow') {
      setTimeout(() => this.route(method, url, body, res, undefined), this.slowMs);
      return;
    }
    this.route(method, url, body, res, fault);
  }

  private route(
    method: string,
    url: string,
    body: string,
    res: http.ServerResponse,
    fault: Fault | undefined,
  ): void {
    const json = (status: number, value: unknown): void =>
      void res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(value));
    if (method === 'GET' && url === '/api/media/pending/all') {
      const images = [...this.pending.values()].map((u) => ({
        id: u.id,
        user_id: u.userId ?? 1,
        image_path: u.imagePath,
        original_name: null,
        status: 'pending',
        created_at: '2024-01-01T10:00:00Z',
        ...u.extra,
      }));
      return json(200, {
        images: [...images, ...this.rawEntries],
        total: images.length + this.rawEntries.length,
      });
    }
    if (method === 'GET' && url.startsWith('/temp_images/')) {
      const file = this.files.get(url);
      if (!file) return json(404, { error: 'not found' });
      if (fault === 'drop') {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': file.length });
        res.write(file.subarray(0, file.length >> 1));
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      return void res
        .writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': file.length })
        .end(file);
    }
    const complete = /^\/api\/media\/complete\/(\d+)$/.exec(url);
    if (method === 'POST' && complete) {
      const id = Number(complete[1]);
      if (!this.pending.has(id)) return json(409, { success: false, error: 'already processed' });
      this.pending.delete(id);
      return json(200, {
        success: true,
        imageId: id,
        media_id: (JSON.parse(body) as { media_id: string }).media_id,
        status: 'processed',
      });
    }
    const cleanup = /^\/api\/media\/cleanup\/(\d+)$/.exec(url);
    if (method === 'DELETE' && cleanup) {
      this.pending.delete(Number(cleanup[1]));
      return json(200, { success: true, message: 'Image marked as failed and temp file cleaned up' });
    }
    json(404, { error: `no route ${method} ${url}` });
  }
}

/** A server on another port that must never be contacted: it only counts hits. */
export async function startTrap(): Promise<{ url: string; hits: string[]; stop: () => Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200).end('trap');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
