/**
 * `media-worker storage copy` as an operator runs it: the built CLI spawned
 * against a real directory and a real S3 API (moto_server), its stdout,
 * stderr and exit codes checked; a kill -9 in the middle, then a re-run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../src/storage/s3-object-store.js';
import {
  FAKE_CREDENTIALS,
  MOTO_INSTALL_HINT,
  motoCommand,
  startMotoServer,
  type MotoServer,
} from '../helpers/moto-server.js';
import { CLI, freePort, runCli, start, waitFor } from '../helpers/processes.js';

const moto = motoCommand();
if (!moto) console.warn(MOTO_INSTALL_HINT);

const BUCKET = 'storage-copy-e2e';

function writeTree(root: string, count: number, size: (i: number) => number): Map<string, Buffer> {
  const objects = new Map<string, Buffer>();
  for (let i = 0; i < count; i += 1) {
    const key =
      i % 2 === 0
        ? `bulk/2026-03-0${1 + (i % 9)}/${i}.jpg`
        : `library/user_${i % 5}/site/img/${i}_detail.webp`;
    const bytes = Buffer.alloc(size(i), `${key}:`);
    objects.set(key, bytes);
    fs.mkdirSync(path.dirname(path.join(root, key)), { recursive: true });
    fs.writeFileSync(path.join(root, key), bytes);
  }
  return objects;
}

/** Relative paths of the regular files under `root`, temp files (`.tmp-…`) left out. */
function filesUnder(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[])
    .filter((name) => !path.basename(name).startsWith('.tmp-'))
    .filter((name) => fs.statSync(path.join(root, name)).isFile());
}

/**
 * stderr without Node's process warnings: the AWS SDK warns once per process
 * that its releases after January 2027 need Node 22 (NodeVersionSupportWarning).
 */
function ownLines(stderr: string): string[] {
  const withoutWarnings = stderr.replace(/\(node:\d+\) [\s\S]*?\(Use `node --trace-warnings[^\n]*\n/g, '');
  return withoutWarnings.trim().split('\n');
}

interface Summary {
  objects: number;
  copied: number;
  skipped: number;
  failed: number;
  bytes: number;
  dryRun: boolean;
}

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'storage-copy-e2e-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('media-worker storage copy: flags', () => {
  it.each([
    [['--to', 's3://media/prod'], '--from is required'],
    [['--from', 'fs:var/storage'], '--to is required'],
    [['--from', 'var/storage', '--to', 's3://Media'], '--to names bucket "Media"'],
    [['--from', 'https://example.com/x', '--to', 's3://media'], '--from must be s3://bucket'],
    [['--from', 'fs:var/storage', '--to', 'var/storage/'], '--from and --to name the same location'],
    [['--from', 'var/storage', '--to', 'var/storage/copy'], '--from (', 'overlap'],
    [
      ['--from', 'var/storage', '--to', 's3://media', '--concurrency', '0'],
      '--concurrency must be an integer ≥ 1',
    ],
    [
      ['--from', 'var/storage', '--to', 's3://media', '--concurrency', '65'],
      '--concurrency must be at most 64',
    ],
    [['--from', 'var/storage', '--to', 's3://media', '--concurrency', 'x'], '--concurrency must be'],
    [['--from', path.join(os.tmpdir(), 'no-such-media-dir'), '--to', 's3://media'], 'no such directory'],
    [['--from', 'var/storage', '--to', 's3://media', '--bogus'], "unknown option '--bogus'"],
  ])('%j: exit 2, one line naming the flag', async (args, ...expected) => {
    const result = await runCli(['storage', 'copy', ...args], { S3_ENDPOINT: 'http://127.0.0.1:9' });
    expect(result.code, result.stderr).toBe(2);
    for (const text of expected) expect(result.stderr).toContain(text);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
  });
});

describe.skipIf(!moto)('media-worker storage copy on moto_server', () => {
  let server: MotoServer;
  let bucket: S3ObjectStore;
  let env: Record<string, string>;
  beforeAll(async () => {
    server = await startMotoServer(moto!);
    env = { ...FAKE_CREDENTIALS, S3_ENDPOINT: server.endpoint };
    bucket = new S3ObjectStore({
      bucket: BUCKET,
      prefix: 'prod/',
      endpoint: server.endpoint,
      forcePathStyle: true,
      region: FAKE_CREDENTIALS.AWS_REGION,
    });
    const saved = { ...process.env };
    Object.assign(process.env, FAKE_CREDENTIALS);
    try {
      await bucket.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    } finally {
      for (const name of Object.keys(FAKE_CREDENTIALS)) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  });
  afterAll(async () => {
    await bucket?.close();
    await server?.stop();
  });

  it('copies a directory into the bucket (--json), then skips all of it; a dry run changes nothing', async () => {
    const source = path.join(dir, 'to-bucket');
    const objects = writeTree(source, 40, (i) => 100 + i * 13);
    const bytes = [...objects.values()].reduce((sum, b) => sum + b.length, 0);
    const args = ['storage', 'copy', '--from', `fs:${source}`, '--to', `s3://${BUCKET}/prod`, '--json'];

    const dry = await runCli([...args, '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, objects: 40, copied: 40, skipped: 0 });
    expect(await bucket.stat([...objects.keys()][0]!)).toBeUndefined();

    const first = await runCli([...args, '--concurrency', '8'], env);
    expect(first.code, first.stderr).toBe(0);
    const summary = JSON.parse(first.stdout) as Summary;
    expect(summary).toMatchObject({ dryRun: false, objects: 40, copied: 40, skipped: 0, failed: 0, bytes });
    for (const [key, expected] of objects) {
      const opened = await bucket.open(key);
      const chunks: Buffer[] = [];
      for await (const chunk of opened!.stream as AsyncIterable<Buffer>) chunks.push(chunk);
      expect(Buffer.concat(chunks).equals(expected), key).toBe(true);
    }

    const again = await runCli(args, env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ copied: 0, skipped: 40, failed: 0, bytes: 0 });

    const human = await runCli(args.slice(0, -1), env);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('skipped 40 already there (same size and sha256)');
    expect(human.stdout).toContain('failed 0');
  });

  it('a bucket that does not exist is exit 2, one line naming --to', async () => {
    const source = path.join(dir, 'no-bucket');
    writeTree(source, 2, () => 10);
    const result = await runCli(['storage', 'copy', '--from', source, '--to', 's3://no-such-bucket/x'], env);
    expect(result.code).toBe(2);
    const lines = ownLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^media-worker: --to s3:\/\/no-such-bucket\/x\/: .*NoSuchBucket/);
  });
});

describe('media-worker storage copy, failures at run time', () => {
  it('an unreachable S3 server is exit 1, one line naming --to', async () => {
    const source = path.join(dir, 'unreachable');
    writeTree(source, 2, () => 10);
    const port = await freePort();
    const result = await runCli(['storage', 'copy', '--from', source, '--to', 's3://media/prod'], {
      ...FAKE_CREDENTIALS,
      S3_ENDPOINT: `http://127.0.0.1:${port}`,
    });
    expect(result.code).toBe(1);
    const lines = ownLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^media-worker: --to s3:\/\/media\/prod\/: .*ECONNREFUSED/);
  });

  it('after a kill -9 mid-copy, no object is partial and a re-run finishes the job', async () => {
    const source = path.join(dir, 'killed-source');
    const destination = path.join(dir, 'killed-destination');
    const objects = writeTree(source, 1500, (i) => 2000 + (i % 50) * 100);
    const args = ['storage', 'copy', '--from', source, '--to', destination, '--concurrency', '2'];
    const { child, finished } = start(process.execPath, [CLI, ...args], {});
    await waitFor(() => filesUnder(destination).length >= 100, 'the copy to be under way', 60_000);
    child.kill('SIGKILL');
    const killed = await finished;
    expect(killed.signal).toBe('SIGKILL');
    const copiedBefore = filesUnder(destination);
    expect(copiedBefore.length).toBeLessThan(objects.size);
    for (const key of copiedBefore) {
      expect(fs.readFileSync(path.join(destination, key)).equals(objects.get(key)!), key).toBe(true);
    }

    const rerun = await runCli([...args, '--json'], {});
    expect(rerun.code, rerun.stderr).toBe(0);
    const summary = JSON.parse(rerun.stdout) as Summary;
    expect(summary.failed).toBe(0);
    expect(summary.skipped).toBeGreaterThanOrEqual(copiedBefore.length);
    expect(summary.copied + summary.skipped).toBe(objects.size);
    expect(filesUnder(destination).sort()).toEqual([...objects.keys()].sort());
    for (const [key, bytes] of objects) {
      expect(fs.readFileSync(path.join(destination, key)).equals(bytes), key).toBe(true);
    }
  });
});
