/**
 * `media-worker run` on a bucket at start-up: what no waiting fixes (a
 * missing bucket) exits 2 with one line naming STORAGE_URL; a bucket that
 * does not answer yet is waited for with /readyz saying why, and the worker
 * starts by itself once it answers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAKE_CREDENTIALS,
  MOTO_INSTALL_HINT,
  motoCommand,
  startMotoServer,
  type MotoServer,
} from '../helpers/moto-server.js';
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

  it('waits for a bucket that does not answer yet, not ready meanwhile, then starts by itself', async () => {
    const s3Port = await freePort();
    const httpPort = await freePort();
    const endpoint = `http://127.0.0.1:${s3Port}`;
    const worker = start(process.execPath, ['bin/media-worker', 'run'], {
      ...envFor(endpoint, 'late-bucket', httpPort),
      LOG_LEVEL: 'info',
    });
    let server: MotoServer | undefined;
    let output = '';
    worker.child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const readyz = () =>
        fetch(`http://127.0.0.1:${httpPort}/readyz`).then(
          async (response) => ({ status: response.status, body: await response.text() }),
          () => undefined,
        );
      let notReady: { status: number; body: string } | undefined;
      await waitFor(async () => (notReady = await readyz()) !== undefined, '/readyz to answer', 30_000);
      expect(notReady!.status).toBe(503);
      expect(notReady!.body).toMatch(/"storage":\{"ok":false,"detail":"S3 ListObjectsV2 .*unreachable/);
      server = await startMotoServer(moto!, {}, s3Port);
      const client = new S3Client({
        endpoint,
        forcePathStyle: true,
        region: 'us-east-1',
        credentials: {
          accessKeyId: FAKE_CREDENTIALS.AWS_ACCESS_KEY_ID,
          secretAccessKey: FAKE_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
        },
      });
      await client.send(new CreateBucketCommand({ Bucket: 'late-bucket' }));
      client.destroy();
      let last: { status: number; body: string } | undefined;
      await waitFor(
        async () => (last = await readyz())?.status === 200,
        '/readyz to turn ready',
        60_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}: last answer ${JSON.stringify(last)}`);
      });
      await waitFor(() => output.includes('"worker started"'), 'the worker to start claiming', 60_000);
      worker.child.kill('SIGTERM');
      const finished = await worker.finished;
      expect(finished.code, finished.stderr).toBe(0);
      const lines = finished.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { msg: string });
      const messages = lines.map((line) => line.msg);
      expect(messages).toContain('storage unreachable; waiting for it before claiming work');
      expect(messages, JSON.stringify(messages)).toContain('storage reachable');
      expect(messages.indexOf('storage reachable')).toBeLessThan(messages.indexOf('worker started'));
    } finally {
      worker.child.kill('SIGKILL');
      await worker.finished;
      await server?.stop();
    }
  }, 120_000);
});
