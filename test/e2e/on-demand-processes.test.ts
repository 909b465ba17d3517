/**
 * Single flight across processes: two spawned `media-worker run --no-work`
 * servers sharing one database and one store (two VMs in miniature) are
 * asked for the same not-yet-rendered zoom at the same time, several times
 * each. Every request gets the same variant, and it is rendered once in
 * all: each render logs "on-demand variant rendered", and the lines of both
 * processes are counted. Then `media-worker render --size zoom` pre-renders
 * what is still missing, through the same renderer, with its report.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE } from '../helpers/image-fixtures.js';
import { CLI, freePort, runCli, start, waitFor, type Finished } from '../helpers/processes.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

describe.each(availableDialects())('on-demand renders across processes on %s', (dialect) => {
  let t: TestDatabase;
  let dir: string;
  let env: Record<string, string>;
  let ids: number[];

  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-on-demand-e2e-'));
    env = { DATABASE_URL: t.url, STORAGE_DIR: path.join(dir, 'storage') };
    const big = path.join(dir, 'big.jpg');
    await sharp(SAMPLE('hubble-deep-field.jpg')).resize(2600).jpeg().toFile(big);
    const ingest = await runCli(['ingest', big, big, '--role', 'product', '--user', '3', '--json'], env);
    expect(ingest.code, ingest.stderr).toBe(0);
    ids = (JSON.parse(ingest.stdout) as { ids: number[] }).ids;
    const run = await runCli(['run', '--once', '--no-serve'], env);
    expect(run.code, run.stderr).toBe(0);
  });
  afterAll(async () => {
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function startServer(workerId: string) {
    const port = await freePort();
    const server = start(process.execPath, [CLI, 'run', '--no-work', '--http-port', String(port)], {
      ...env,
      WORKER_ID: workerId,
      LOG_LEVEL: 'info',
      ON_DEMAND_CONCURRENCY: '4',
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok === true,
      `${workerId} to be ready`,
    );
    return { ...server, base };
  }

  it('renders a zoom once for two processes racing for it', async () => {
    const servers = await Promise.all([startServer('vm-a'), startServer('vm-b')]);
    let finished: Finished[] = [];
    try {
      const url = (base: string) => `${base}/serve/${ids[0]}?size=zoom&format=jpeg`;
      const answers = await Promise.all(
        [...servers, ...servers, ...servers].map(async ({ base }) => {
          const response = await fetch(url(base));
          return {
            status: response.status,
            etag: response.headers.get('etag'),
            bytes: (await response.arrayBuffer()).byteLength,
          };
        }),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
      expect(new Set(answers.map((a) => a.etag)).size).toBe(1);
      expect(new Set(answers.map((a) => a.bytes)).size).toBe(1);
    } finally {
      for (const { child } of servers) child.kill('SIGTERM');
      finished = await Promise.all(servers.map((s) => s.finished));
    }
    const logs = finished.map((f) => f.stdout + f.stderr).join('\n');
    const renders = logs.split('\n').filter((line) => line.includes('on-demand variant rendered'));
    expect(renders, logs.slice(-2000)).toHaveLength(1);
    const rows = await t.db('media_variants').where({ media_id: ids[0], size: 'zoom' });
    expect(rows.map((r: { format: string }) => r.format)).toEqual(['jpeg']);
  });

  it('pre-renders what is missing with `render --size zoom`, and validates its flags', async () => {
    const bad = await runCli(['render', '--size', 'grid'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--size must be one of header, zoom');
    const rendered = await runCli(['render', '--size', 'zoom', '--since', '1d', '--json'], env);
    expect(rendered.code, rendered.stderr).toBe(0);
    // Item 1 lacked avif and webp, item 2 all three formats.
    expect(JSON.parse(rendered.stdout)).toMatchObject({
      size: 'zoom',
      items: 2,
      rendered: 5,
      unavailable: [],
    });
    const again = await runCli(['render', '--size', 'zoom', '--ids', String(ids[1]), '--json'], env);
    expect(JSON.parse(again.stdout)).toMatchObject({ items: 1, rendered: 0 });
    const count = (await t.db('media_variants').where({ size: 'zoom' }).count({ n: '*' }).first()) as {
      n: unknown;
    };
    expect(Number(count.n)).toBe(6);
  });
});
