/**
 * `media-worker run` on a bucket at start-up: what no waiting fixes (a
 * missing bucket) exits 2 with one line naming STORAGE_URL; a bucket that
 * does not answer yet (nothing listening, then 503 SlowDown) is waited for
 * with /readyz saying why, and the worker starts by itself once it answers.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_CREDENTIALS, MOTO_INSTALL_HINT, motoCommand, startMotoServer } from '../helpers/moto-server.js';
import { freePort, runCli, start, waitFor } from '../helpers/processes.js';

const moto = motoCommand();
if (!moto) console.warn(MOTO_INSTALL_HINT);

describe.skipIf(!moto)('run on an S3 bucket at start-up', () => {
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-storage-startup-'));
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const envFor = (endpoint: string, bucket: string, httpPort: number) => ({
    ...FAKE_CREDENTIALS,
    DATABASE_URL: `sqlite:${path.join(dir, `${bucket}.sqlite`)}`,
    STORAGE_URL: `s3://${bucket}/media`,
    S3_ENDPOINT: endpoint,
    SCRATCH_DIR: path.join(dir, `${bucket}-scratch`),
    SERVE_CACHE_DIR: path.join(dir, `${bucket}-cache`),
    HTTP_PORT: String(httpPort),
  });

  it('exits 2 with one line naming STORAGE_URL when the bucket does not exist', async () => {
    const server = await startMotoServer(moto!);
    const result = await runCli(
      ['run', '--once'],
      envFor(server.endpoint, 'no-such-bucket', await freePort()),
    ).finally(() => server.stop());
    expect(result.code, result.stderr).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /STORAGE_URL names bucket "no-such-bucket", which does not exist .*NoSuchBucket/,
    );
    expect(result.stdout).not.toMatch(/worker started/);
  });

  it('waits for a bucket that does not answer yet (refused, then 503 SlowDown), then starts by itself', async () => {
    const server = await startMotoServer(moto!);
    const client = new S3Client({
      endpoint: server.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: {
        accessKeyId: FAKE_CREDENTIALS.AWS_ACCESS_KEY_ID,
        secretAccessKey: FAKE_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
      },
    });
    await client.send(new CreateBucketCommand({ Bucket: 'late-bucket' }));
    client.destroy();
    // The endpoint the worker is given: nothing listens at first, then it throttles, then it is moto.
    const gate = new S3Gate(server.port);
    const s3Port = await freePort();
    const httpPort = await freePort();
    const worker = start(process.execPath, ['bin/media-worker', 'run'], {
      ...envFor(`http://127.0.0.1:${s3Port}`, 'late-bucket', httpPort),
      LOG_LEVEL: 'info',
    });
    let output = '';
    worker.child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const readyz = () =>
      fetch(`http://127.0.0.1:${httpPort}/readyz`).then(
        async (response) => ({ status: response.status, body: await response.text() }),
        () => undefined,
      );
    const untilReadyz = async (
      what: string,
      matches: (answer: { status: number; body: string }) => boolean,
    ) => {
      let last: { status: number; body: string } | undefined;
      await waitFor(async () => (last = await readyz()) !== undefined && matches(last), what, 60_000).catch(
        (error: Error) => {
          throw new Error(
            `${error.message}: last answer ${JSON.stringify(last)}; worker said ${output.slice(-2000)}`,
          );
        },
      );
      return last!;
    };
    try {
      const refused = await untilReadyz('/readyz to answer', () => true);
      expect(refused.status).toBe(503);
      expect(refused.body).toMatch(/"storage":\{"ok":false,"detail":"S3 ListObjectsV2 .*unreachable/);
      await gate.listen(s3Port);
      await untilReadyz('/readyz to report SlowDown', (answer) => /SlowDown \(HTTP 503\)/.test(answer.body));
      expect(output).not.toMatch(/"worker started"/);
      gate.open = true;
      await untilReadyz('/readyz to turn ready', (answer) => answer.status === 200);
      await waitFor(() => output.includes('"worker started"'), 'the worker to start claiming', 60_000);
      worker.child.kill('SIGTERM');
      const finished = await worker.finished;
      expect(finished.code, finished.stderr).toBe(0);
      const messages = finished.stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { msg: string }).msg);
      expect(messages).toContain('storage unreachable; waiting for it before claiming work');
      expect(messages, JSON.stringify(messages)).toContain('storage reachable');
      expect(messages.indexOf('storage reachable')).toBeLessThan(messages.indexOf('worker started'));
    } finally {
      worker.child.kill('SIGKILL');
      await worker.finished;
      await gate.close();
      await server.stop();
    }
  }, 120_000);
});

/** An S3 endpoint that throttles every request (503 SlowDown) until opened, then forwards to moto. */
class S3Gate {
  open = false;
  private readonly server: http.Server;

  constructor(motoPort: number) {
    this.server = http.createServer((request, response) => {
      if (!this.open) {
        request.resume();
        response.writeHead(503, { 'Content-Type': 'application/xml' });
        response.end(
          '<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
        );
        return;
      }
      const upstream = http.request(
        {
          host: '127.0.0.1',
          port: motoPort,
          method: request.method,
          path: request.url,
          headers: request.headers,
        },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      upstream.on('error', () => response.destroy());
      request.pipe(upstream);
    });
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve) => this.server.listen(port, '127.0.0.1', resolve));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
