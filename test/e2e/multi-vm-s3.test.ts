/**
 * Two VMs, one database, one bucket: two real `media-worker run` processes,
 * each with local directories of its own (scratch, serve cache, an unused
 * STORAGE_DIR; no shared disk), on one MariaDB and one bucket prefix on
 * moto_server, fed real sample images by the fake main API. One of them is
 * SIGKILLed while it holds claims and restarted as systemd would. Then:
 * every upload completed exactly once (the chaos suite's invariant checker),
 * every object the rows name is whole in the bucket, both processes serve
 * every completed item with the bucket's bytes (ranges too, the second time
 * from their own cache), and nothing but scratch and cache touched a local
 * disk, the killed process's scratch swept by `cleanup --orphans`.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { etagOf } from '../../src/images/render-variants.js';
import { IDLE_MAX_MS, LEASE_MS, POLL_INTERVAL_MS, sleep, waitUntil, workerEnv } from '../chaos/chaos-env.js';
import { WorkerCluster } from '../chaos/cluster.js';
import { checkLeases, checkUploads, formatViolations, isSettled } from '../chaos/invariants.js';
import { checkMetrics, parseMetrics, type Samples } from '../chaos/metrics-check.js';
import { takeSnapshot, type Snapshot, type VariantRow } from '../chaos/snapshot.js';
import { goodUploads, type ChaosUpload } from '../chaos/uploads.js';
import { BucketContents } from '../helpers/bucket-contents.js';
import { FakeMainApi } from '../helpers/fake-main-api.js';
import {
  FAKE_CREDENTIALS,
  MOTO_INSTALL_HINT,
  motoCommand,
  startMotoServer,
  type MotoServer,
} from '../helpers/moto-server.js';
import { ROOT, runCli } from '../helpers/processes.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const moto = motoCommand();
if (!moto) console.warn(MOTO_INSTALL_HINT);
const mysqlUrl = inject('mysqlUrl');
if (!mysqlUrl) {
  // The global setup has already failed a CI=true run without MariaDB: this never skips silently there.
  console.warn('multi-VM test skipped: no MySQL/MariaDB (install mariadb-server or set TEST_DATABASE_URL)');
}

const BUCKET = 'media-multi-vm';
const PREFIX = 'prod/media/';
const UPLOADS = 24;
const VMS = ['vm-a', 'vm-b'] as const;
const VICTIM = 'vm-a';
/** Each process's output, kept after the run for the post-mortem. */
const LOG_DIR = path.join(ROOT, 'var/e2e/multi-vm-s3');
/** systemd's RestartSec. */
const RESTART_AFTER_MS = 1000;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One GET on a fresh connection (no keep-alive socket outlives it). */
function get(port: number, url: string, headers: http.OutgoingHttpHeaders = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: url, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    });
    request.setTimeout(15_000, () => request.destroy(new Error(`GET ${url} on port ${port} timed out`)));
    request.on('error', reject);
  });
}

async function scrape(port: number): Promise<Samples> {
  const answer = await get(port, '/metrics');
  if (answer.status !== 200) throw new Error(`/metrics on port ${port} answered ${answer.status}`);
  return parseMetrics(answer.body.toString());
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const serveUrl = (mediaId: number, v: VariantRow) =>
  `/serve/${mediaId}?size=${v.size}&format=${v.format}&bg=${v.bg}`;

async function inPool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** Regular files under `root`, relative; [] when it does not exist. */
function filesUnder(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter((name) =>
    fs.statSync(path.join(root, name)).isFile(),
  );
}

/** Per item: every thumbnail (each format), one detail (format rotating) and the first bg=removed variant. */
function variantsToServe(variants: VariantRow[], i: number): VariantRow[] {
  const details = variants.filter((v) => v.size === 'detail' && v.bg === 'original');
  return [
    ...variants.filter((v) => v.size === 'thumbnail' && v.bg === 'original'),
    ...(details.length > 0 ? [details[i % details.length]!] : []),
    ...variants.filter((v) => v.bg === 'removed').slice(0, 1),
  ];
}

describe.skipIf(!moto || !mysqlUrl)('two VMs on one database and one bucket, one SIGKILLed', () => {
  const api = new FakeMainApi();
  let t: TestDatabase;
  let s3: MotoServer;
  let bucket: BucketContents;
  let dir: string;
  let cluster: WorkerCluster;
  let uploads: ChaosUpload[];
  let snapshot: Snapshot;
  /** media_variants.etag by path (the chaos snapshot does not read it). */
  let etags: Map<string, string>;
  const t0 = Date.now();
  let settledAfterMs = 0;
  const kill = { claimed: [] as number[], completedBefore: 0, scratchLeft: [] as string[] };
  const vmDir = (vm: string) => path.join(dir, vm);
  const envOf = (vm: string, port: number) =>
    workerEnv({
      databaseUrl: t.url,
      storageDir: path.join(vmDir(vm), 'storage'),
      mainApiUrl: api.url,
      workerId: vm,
      httpPort: port,
      extra: {
        ...FAKE_CREDENTIALS,
        STORAGE_URL: `s3://${BUCKET}/${PREFIX}`,
        S3_ENDPOINT: s3.endpoint,
        S3_REGION: FAKE_CREDENTIALS.AWS_REGION,
        S3_FORCE_PATH_STYLE: 'true',
        SCRATCH_DIR: path.join(vmDir(vm), 'scratch'),
        SERVE_CACHE_DIR: path.join(vmDir(vm), 'serve-cache'),
        SERVE_CACHE_MB: '64',
      },
    });
  const completedMedia = () =>
    uploads.map((u) => snapshot.byMainApiId.get(u.id)!).filter((m) => m?.status === 'completed');

  async function claimsOf(vm: string): Promise<number[]> {
    const rows = (await t
      .db('processing_checklist')
      .where({ worker_id: vm })
      .whereNotNull('claim_token')
      .pluck('media_id')) as unknown[];
    return rows.map(Number);
  }

  async function countCompleted(): Promise<number> {
    const row = (await t.db('media_files').where({ status: 'completed' }).count({ n: '*' }).first()) as
      { n: number | string } | undefined;
    return Number(row?.n ?? 0);
  }

  /** SIGKILLs the victim once a few items are done and it holds claims, before everything is. */
  async function killWhileInFlight(): Promise<void> {
    await waitUntil(
      async () => {
        kill.completedBefore = await countCompleted();
        kill.claimed = kill.completedBefore >= 3 ? await claimsOf(VICTIM) : [];
        return kill.claimed.length > 0;
      },
      `${VICTIM} to hold claims after 3 completions`,
      60_000,
    );
    await cluster.signal(VICTIM, 'SIGKILL');
    const scratch = path.join(vmDir(VICTIM), 'scratch');
    kill.scratchLeft = fs.existsSync(scratch) ? fs.readdirSync(scratch) : [];
  }

  async function waitListening(vm: string): Promise<void> {
    await waitUntil(
      async () => (await get(cluster.port(vm), '/healthz')).status === 200,
      `${vm} to answer /healthz`,
      30_000,
    );
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-multi-vm-'));
    t = await createTestDatabase('mysql');
    s3 = await startMotoServer(moto!);
    bucket = new BucketContents(s3.endpoint, BUCKET, PREFIX);
    await bucket.createBucket();
    await api.start();
    uploads = await goodUploads(UPLOADS, 7001, 0.7);
    for (const upload of uploads) api.add(upload);
    fs.rmSync(LOG_DIR, { recursive: true, force: true });
    cluster = new WorkerCluster(LOG_DIR, envOf);
    for (const vm of VMS) await cluster.add(vm);
    await killWhileInFlight();
    await sleep(RESTART_AFTER_MS);
    cluster.restart(VICTIM);
    await waitUntil(
      async () => {
        if (api.pending.size > 0) return false;
        const current = await takeSnapshot(t.db);
        return uploads.every((u) => isSettled(u, current, api));
      },
      `all ${UPLOADS} uploads to be completed and accepted (logs in ${LOG_DIR})`,
      75_000,
    );
    settledAfterMs = Date.now() - t0;
    // A few more pending-list polls: a second completion of anything would show by then.
    const polls = api.calls('GET', /pending/).length;
    await waitUntil(
      () => api.calls('GET', /pending/).length >= polls + 3,
      'three more polls',
      10 * POLL_INTERVAL_MS + 10 * IDLE_MAX_MS,
    );
    for (const vm of VMS) await waitListening(vm);
    snapshot = await takeSnapshot(t.db);
    const rows = (await t.db('media_variants').select('path', 'etag')) as Array<{
      path: string;
      etag: string;
    }>;
    etags = new Map(rows.map((row) => [row.path, row.etag]));
  });

  afterAll(async () => {
    await cluster?.dispose();
    await api.stop();
    bucket?.close();
    await s3?.stop();
    await t?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('killed while holding claims; every upload completed exactly once (invariant checker)', async () => {
    expect(kill.claimed.length, 'the victim held claims when killed').toBeGreaterThan(0);
    expect(kill.completedBefore, 'items were still in flight at the kill').toBeLessThan(UPLOADS);
    const scrapes = [];
    for (const vm of VMS) scrapes.push({ slot: vm, samples: await scrape(cluster.port(vm)) });
    const { violations, tally } = checkUploads(uploads, snapshot, api, t0);
    violations.push(
      ...checkLeases(snapshot, LEASE_MS + IDLE_MAX_MS),
      ...checkMetrics(scrapes, snapshot, false),
    );
    for (const incarnation of cluster.unexpectedExits())
      violations.push({
        invariant: 'process',
        detail: `${incarnation.slot}#${incarnation.n} exited on its own: ${incarnation.exit?.code} (${incarnation.logFile})`,
      });
    expect(violations, formatViolations(violations)).toEqual([]);
    expect(tally).toEqual({ completed: UPLOADS, failed: 0, lost: 0, doubled: 0 });
    // Both VMs did some of the work.
    const finishedBy = new Set(
      [...snapshot.events.values()].flat().flatMap((e) => (e.event === 'completed' ? [e.worker_id] : [])),
    );
    expect([...finishedBy].sort()).toEqual([...VMS]);
  });

  it('every object the rows name is whole in the bucket (size, ETag, sha256), and nothing else is there', async () => {
    const listed = new Map((await bucket.list()).map((o) => [o.key, o]));
    const problems: string[] = [];
    const named = new Set<string>();
    await inPool(completedMedia(), 6, async (media) => {
      named.add(media.bulk_path!);
      const original = await bucket.read(media.bulk_path!);
      if (!original) problems.push(`#${media.id}: original ${media.bulk_path} missing`);
      else if (original.length !== media.file_size || sha256(original) !== media.sha256)
        problems.push(
          `#${media.id}: original ${media.bulk_path} is not the recorded ${media.file_size} bytes`,
        );
      for (const variant of snapshot.variants.get(media.id) ?? []) {
        named.add(variant.path);
        const bytes = await bucket.read(variant.path);
        if (!bytes) problems.push(`#${media.id}: ${variant.path} missing`);
        else if (bytes.length !== variant.bytes || listed.get(variant.path)?.size !== variant.bytes)
          problems.push(`#${media.id}: ${variant.path} has ${bytes.length} bytes, row says ${variant.bytes}`);
        else if (etagOf(bytes) !== etags.get(variant.path))
          problems.push(`#${media.id}: ${variant.path} content hash differs from the row's ETag`);
      }
    });
    expect(problems).toEqual([]);
    expect(named.size).toBeGreaterThan(UPLOADS * 12);
    expect([...listed.keys()].filter((key) => !named.has(key))).toEqual([]);
  });

  it('both VMs serve every completed item with the bucket bytes', async () => {
    const problems: string[] = [];
    let compared = 0;
    await inPool([...completedMedia().entries()], 3, async ([i, media]) => {
      for (const variant of variantsToServe(snapshot.variants.get(media.id) ?? [], i)) {
        const url = serveUrl(media.id, variant);
        const stored = await bucket.read(variant.path);
        const answers = await Promise.all(VMS.map((vm) => get(cluster.port(vm), url)));
        answers.forEach((answer, n) => {
          if (answer.status !== 200) problems.push(`${VMS[n]} GET ${url} → ${answer.status}`);
          else if (!stored || !answer.body.equals(stored))
            problems.push(`${VMS[n]} GET ${url}: ${answer.body.length} bytes, not the bucket's`);
          else if (answer.headers.etag !== etags.get(variant.path))
            problems.push(
              `${VMS[n]} GET ${url}: ETag ${answer.headers.etag}, row ${etags.get(variant.path)}`,
            );
        });
        compared++;
      }
    });
    expect(problems).toEqual([]);
    expect(compared).toBeGreaterThanOrEqual(UPLOADS * 4);
  });

  it('a byte range is answered 206 with the first 100 bytes on both, the second time from the cache', async () => {
    const media = completedMedia()[0]!;
    // A variant the previous test did not serve: the first request fills the cache.
    const variant = (snapshot.variants.get(media.id) ?? []).find(
      (v) => v.size === 'grid' && v.format === 'webp',
    )!;
    const stored = (await bucket.read(variant.path))!;
    const key = (result: string) => `media_worker_serve_cache_total{result="${result}"}`;
    for (const vm of VMS) {
      const port = cluster.port(vm);
      const results: Array<{ hit: number; miss: number }> = [];
      const count = async () => {
        const samples = await scrape(port);
        results.push({ hit: samples.get(key('hit')) ?? 0, miss: samples.get(key('miss')) ?? 0 });
      };
      await count();
      for (let n = 0; n < 2; n++) {
        const answer = await get(port, serveUrl(media.id, variant), { range: 'bytes=0-99' });
        expect(answer.status, `${vm} range request #${n + 1}`).toBe(206);
        expect(answer.headers['content-range']).toBe(`bytes 0-99/${variant.bytes}`);
        expect(answer.body.equals(stored.subarray(0, 100)), `${vm}: the first 100 bytes`).toBe(true);
        await count();
      }
      const [before, first, second] = results as [
        (typeof results)[0],
        (typeof results)[0],
        (typeof results)[0],
      ];
      expect({ miss: first.miss - before.miss, hit: first.hit - before.hit }, `${vm} first request`).toEqual({
        miss: 1,
        hit: 0,
      });
      expect({ miss: second.miss - first.miss, hit: second.hit - first.hit }, `${vm} second request`).toEqual(
        {
          miss: 0,
          hit: 1,
        },
      );
    }
  });

  it('each VM exits 0 on SIGTERM; no media on a local disk; the killed one left scratch only, which cleanup --orphans sweeps', async () => {
    expect(await cluster.stopAll()).toEqual([]);
    for (const vm of VMS) {
      expect(filesUnder(path.join(vmDir(vm), 'storage')), `${vm} STORAGE_DIR`).toEqual([]);
      const other = fs
        .readdirSync(vmDir(vm))
        .filter((name) => !['scratch', 'serve-cache', 'storage'].includes(name));
      expect(other, `${vm}: directories besides scratch, serve-cache and storage`).toEqual([]);
      expect(filesUnder(path.join(vmDir(vm), 'serve-cache')).length, `${vm} serve cache`).toBeGreaterThan(0);
    }
    const scratchOf = (vm: string) => path.join(vmDir(vm), 'scratch');
    expect(fs.readdirSync(scratchOf('vm-b')), 'the surviving VM left scratch behind').toEqual([]);
    const left = fs.readdirSync(scratchOf(VICTIM));
    expect(
      left.filter((name) => !kill.scratchLeft.includes(name)),
      'scratch of the restarted process',
    ).toEqual([]);
    // The age sweep: make what the kill left an hour and a minute old, then run cleanup on that VM.
    const past = new Date(Date.now() - 3_660_000);
    for (const name of left) fs.utimesSync(path.join(scratchOf(VICTIM), name), past, past);
    const env = envOf(VICTIM, cluster.port(VICTIM));
    const cleanup = await runCli(['cleanup', '--orphans', '--json'], env);
    expect(cleanup.code, cleanup.stderr).toBe(0);
    const report = JSON.parse(cleanup.stdout) as { orphanFiles: string[] };
    expect(report.orphanFiles.sort()).toEqual(left.map((name) => path.join(scratchOf(VICTIM), name)).sort());
    expect(fs.readdirSync(scratchOf(VICTIM))).toEqual([]);
    console.log(
      `multi-VM: ${UPLOADS} uploads, killed ${VICTIM} holding ${kill.claimed.length} claim(s) after ${kill.completedBefore} completions, ` +
        `${left.length} scratch dir(s) left by the kill; settled after ${Math.round(settledAfterMs / 1000)} s, done after ${Math.round((Date.now() - t0) / 1000)} s`,
    );
  });
});
