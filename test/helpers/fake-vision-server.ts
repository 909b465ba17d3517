/**
 * What the fake OpenAI-compatible and Google Vision servers share: a real
 * HTTP server on 127.0.0.1 that records every request (url, headers, parsed
 * JSON body), counts requests in flight, and answers from a queue of
 * scripted modes (then the default mode). Closing it closes its connections.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface VisionRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface FakeVisionServer<Mode extends string> {
  url: string;
  requests: VisionRequest[];
  /** The most requests that were in flight at once. */
  maxInFlight(): number;
  /** Modes for the next requests, in order. */
  script(...modes: Mode[]): void;
  /** Answers held (the "hang" mode) are released: each gets a 500. */
  release(): void;
  close(): Promise<void>;
}

export type Answer = (mode: string, request: VisionRequest, response: http.ServerResponse) => void;

export function json(
  response: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
) {
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}

export function startFakeVisionServer<Mode extends string>(
  defaultMode: Mode,
  answer: Answer,
): Promise<FakeVisionServer<Mode>> {
  const requests: VisionRequest[] = [];
  const modes: Mode[] = [];
  const held: http.ServerResponse[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((request, response) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    response.on('close', () => inFlight--);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      const recorded: VisionRequest = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      };
      requests.push(recorded);
      const mode = modes.shift() ?? defaultMode;
      if (mode === 'hang') return void held.push(response);
      if (mode === 'slow') return void setTimeout(() => answer(defaultMode, recorded, response), 150);
      answer(mode, recorded, response);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        requests,
        maxInFlight: () => maxInFlight,
        script: (...next) => void modes.push(...next),
        release: () => held.splice(0).forEach((response) => json(response, 500, { error: 'released' })),
        close: () =>
          new Promise<void>((done) => {
            held.splice(0).forEach((response) => response.destroy());
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    ),
  );
}
