/**
 * A fake main API: a real HTTP server on 127.0.0.1 implementing CONTRACT.md
 * (pending list, temp files, complete, cleanup), recording every request,
 * with scripted faults (5xx, 429 + Retry-After, slow answers, dropped
 * connections mid-body, 401).
 *
 * Chaos faults (test/chaos): 429 with a Retry-After of any value or none,
 * stalls (headers sent after `stallMs`), TCP resets mid-download, trickles
 * (headers, then one byte every `trickleMs`), an empty pending list while
 * `emptyPendingList` is on, and a forced status for POST complete
 * (`completeStatus`). Every recorded request gets the status it was answered
 * with and the fault that shaped the answer.
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
  /** Extra response headers for the file (e.g. Content-Encoding: gzip with pre-compressed bytes). */
  headers?: http.OutgoingHttpHeaders;
  /** Serve the file chunked, without Content-Length. */
  noContentLength?: boolean;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
  /** The status answered (once headers were sent). */
  status?: number;
  /** The fault that shaped the answer, if any. */
  fault?: Fault;
}

export type Fault =
  | '500'
  | '429'
  | 'slow'
  | 'drop'
  | '401'
  /** 429 without Retry-After. */
  | '429-none'
  /** 429 with this exact Retry-After value (valid or not: "2", "-5", "0", "soon"). */
  | `429:${string}`
  /** Headers only after `stallMs`. */
  | 'stall'
  /** Files: headers and a little of the body, then a TCP reset. */
  | 'reset'
  /** Files: headers, then one byte every `trickleMs`. */
  | 'trickle'
  /** Files: no Content-Length, no chunked framing, half the body, then the connection closes. */
  | 'cut-close'
  /** Files: 200 with an HTML maintenance page instead of the file. */
  | 'html-page';

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
  stallMs = 10_000;
  trickleMs = 2000;
  /** While true, the pending list answers {"images":[],"total":0}. */
  emptyPendingList = false;
  /** When set, POST complete answers this status (and accepts nothing). */
  completeStatus: number | undefined;
  /** When set, POST complete with more than {"media_id"} answers this status (the minimal body is accepted). */
  richCompleteStatus: number | undefined;
  readonly fileHeaders = new Map<string, http.OutgoingHttpHeaders>();
  readonly chunkedFiles = new Set<string>();
  private readonly recordOf = new WeakMap<http.ServerResponse, RecordedRequest>();
  private server: http.Server | undefined;
  url = '';

  add(upload: FakeUpload): void {
    this.pending.set(upload.id, upload);
    if (upload.file) this.files.set(upload.imagePath, upload.file);
    if (upload.headers) this.fileHeaders.set(upload.imagePath, upload.headers);
    if (upload.noContentLength) this.chunkedFiles.add(upload.imagePath);
  }

  calls(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.url));
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const record: RecordedRequest = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body,
          at: Date.now(),
        };
        this.requests.push(record);
        this.recordOf.set(res, record);
        res.on('close', () => {
          if (res.headersSent) record.status = res.statusCode;
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
    const record = this.recordOf.get(res);
    if (record && fault) record.fault = fault;
    if (fault === '429-none') return void res.writeHead(429).end('{"error":"slow down"}');
    if (fault?.startsWith('429:'))
      return void res.writeHead(429, { 'Retry-After': fault.slice(4) }).end('{"error":"slow down"}');
    if (fault === 'stall') {
      const timer = setTimeout(() => this.route(method, url, body, res, undefined), this.stallMs);
      res.on('close', () => clearTimeout(timer));
      return;
    }
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
    if (method === 'GET' && url === '/api/media/pending/all' && this.emptyPendingList)
      return json(200, { images: [], total: 0 });
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
      if (fault === 'reset' || fault === 'trickle') return this.sendFaultyFile(res, file, fault);
      if (fault === 'html-page')
        return void res
          .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
          .end('<html>down for maintenance</html>');
      if (fault === 'cut-close') {
        // Written on the socket itself: node's response would add a length or chunked framing.
        const socket = res.socket!;
        socket.write(
          'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n',
        );
        return void socket.end(file.subarray(0, file.length >> 1));
      }
      const extraHeaders = this.fileHeaders.get(url) ?? {};
      if (this.chunkedFiles.has(url)) {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', ...extraHeaders });
        for (let at = 0; at < file.length; at += 65_536) res.write(file.subarray(at, at + 65_536));
        return void res.end();
      }
      return void res
        .writeHead(200, {
          'Content-Type': 'application/octet-stream',
          'Content-Length': file.length,
          ...extraHeaders,
        })
        .end(file);
    }
    const complete = /^\/api\/media\/complete\/(\d+)$/.exec(url);
    if (method === 'POST' && complete) {
      const id = Number(complete[1]);
      if (this.completeStatus !== undefined)
        return json(this.completeStatus, { success: false, error: `forced ${this.completeStatus}` });
      if (this.richCompleteStatus !== undefined && Object.keys(JSON.parse(body) as object).length > 1)
        return json(this.richCompleteStatus, { success: false, error: 'unexpected fields' });
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

  /** Headers, then either a little of the body and a TCP reset, or the body one byte every trickleMs. */
  private sendFaultyFile(res: http.ServerResponse, file: Buffer, fault: 'reset' | 'trickle'): void {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': file.length });
    if (fault === 'reset') {
      res.write(file.subarray(0, Math.min(1024, file.length >> 2)));
      setTimeout(() => res.socket?.resetAndDestroy(), 20);
      return;
    }
    let sent = 0;
    const timer = setInterval(() => {
      if (sent >= file.length) {
        clearInterval(timer);
        return void res.end();
      }
      res.write(file.subarray(sent, sent + 1));
      sent++;
    }, this.trickleMs);
    res.on('close', () => clearInterval(timer));
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
