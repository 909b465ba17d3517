/**
 * One chaos scenario's world: a fresh database, a storage directory, the
 * fake main API, the worker processes, and the invariant check at the end.
 * dispose() leaves nothing behind (processes, servers, databases, temp
 * directories), whatever happened before it. Worker logs stay in
 * var/chaos/<scenario>/ for the post-mortem.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { connectDatabase, type Db } from '../../src/db/connect.js';
import { parseDatabaseUrl } from '../../src/db/database-url.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { FakeMainApi } from '../helpers/fake-main-api.js';
import { ROOT, start } from '../helpers/processes.js';
import { IDLE_MAX_MS, LEASE_MS, waitUntil, workerEnv } from './chaos-env.js';
import { WorkerCluster, chaosCli, tail } from './cluster.js';
import { recordFigures } from './figures.js';
import {
  checkFiles,
  checkLeases,
  checkUploads,
  formatViolations,
  isSettled,
  type Violation,
} from './invariants.js';
import { checkMetrics, scrapeMetrics, type Samples } from './metrics-check.js';
import { describeUpload, takeSnapshot } from './snapshot.js';
import type { ChaosUpload } from './uploads.js';

export interface ChaosRunOptions {
  scenario: string;
  /** A MySQL/MariaDB server URL; by default the run's shared server (vitest globalSetup). */
  serverUrl?: string;
  /** STORAGE_DIR (e.g. a small mount); by default a directory in the run's temp dir. */
  storageDir?: string;
  /** Extra environment for every worker process. */
  env?: Record<string, string>;
}

export interface FinishOptions {
  /** No restarts and no re-runs happened: per-process counters must equal the database. */
  exactCounters?: boolean;
  /** Completed items whose every file is decoded pixel by pixel (others: size and header). */
  fullDecodeItems?: number;
  /** How long an expired claim may wait to be taken over while the run goes on. */
  staleLeaseLimitMs?: number;
  /** More figures for this scenario's JSON line. */
  figures?: Record<string, unknown>;
}

const STALE_LEASE_LIMIT_MS = 20_000;
const RAW_STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

function runCli(args: string[], env: Record<string, string>, cli: string) {
  return start(process.execPath, [cli, ...args], env).finished;
}

export class ChaosRun {
  readonly t0 = Date.now();
  readonly api = new FakeMainApi();
  readonly uploads: ChaosUpload[] = [];
  /** Violations seen while the scenario ran (readiness, serving, exits), checked with the rest at the end. */
  readonly violations: Violation[] = [];
  readonly dir: string;
  readonly storageDir: string;
  readonly logDir: string;
  cluster!: WorkerCluster;
  db!: Db;
  dbUrl = '';
  private dropDatabase: () => Promise<void> = () => Promise.resolve();
  private leaseWatch: NodeJS.Timeout | undefined;
  /** The longest any item stayed claimed past its lease end while the run went on, and which. */
  readonly overdue = { ms: 0, what: '' };
  /** When each expired claim (media@lease end) was first seen with no older due work waiting. */
  private readonly headSince = new Map<string, number>();

  private constructor(readonly options: ChaosRunOptions) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `media-worker-chaos-${options.scenario}-`));
    this.storageDir = options.storageDir ?? path.join(this.dir, 'storage');
    this.logDir = path.join(ROOT, 'var/chaos', options.scenario);
  }

  static async create(options: ChaosRunOptions): Promise<ChaosRun> {
    const run = new ChaosRun(options);
    fs.rmSync(run.logDir, { recursive: true, force: true });
    const serverUrl = options.serverUrl ?? inject('mysqlUrl');
    if (!serverUrl) throw new Error('no MySQL/MariaDB server for the chaos run');
    await run.createDatabase(serverUrl);
    await run.api.start();
    run.cluster = new WorkerCluster(run.logDir, (slot, port) =>
      workerEnv({
        databaseUrl: run.dbUrl,
        storageDir: run.storageDir,
        mainApiUrl: run.api.url,
        workerId: slot,
        httpPort: port,
        ...(options.env ? { extra: options.env } : {}),
      }),
    );
    run.cluster.startSampling();
    run.watchLeases();
    return run;
  }

  private async createDatabase(serverUrl: string): Promise<void> {
    const name = `mw_chaos_${this.options.scenario.replace(/\W/g, '_')}_${randomBytes(3).toString('hex')}`;
    const admin = connectDatabase(parseDatabaseUrl(serverUrl));
    await admin.raw(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
    await admin.destroy();
    this.dbUrl = serverUrl.replace(/\/[^/]*$/, `/${name}`);
    this.db = connectDatabase(parseDatabaseUrl(this.dbUrl));
    if (process.env.CHAOS_CLI) {
      // Another build: its own migrations, which may be fewer than this tree's.
      const migrated = await runCli(['migrate'], { DATABASE_URL: this.dbUrl }, chaosCli());
      if (migrated.code !== 0) throw new Error(`${chaosCli()} migrate failed: ${migrated.stderr}`);
    } else await migrateLatest(this.db);
    this.dropDatabase = async () => {
      await this.db.raw(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined);
    };
  }

  /**
   * Every second: claims whose lease ended and that nobody took over (the
   * database may be down: skip). An expired claim is due again at its lease
   * end and takes its turn in the queue: while older due work still waits
   * unclaimed, the workers are busy, not blind, and the wait is not counted.
   */
  private watchLeases(): void {
    let busy = false;
    this.leaseWatch = setInterval(() => {
      if (busy) return;
      busy = true;
      void this.checkLeases(Date.now())
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, 1000);
  }

  private async checkLeases(now: number): Promise<void> {
    const rows = (await this.db('processing_checklist')
      .whereNotNull('claim_token')
      .andWhere('lease_expires_at', '<', now)
      .select('media_id', 'worker_id', 'lease_expires_at')) as Array<{
      media_id: unknown;
      worker_id: string | null;
      lease_expires_at: unknown;
    }>;
    if (rows.length === 0) return;
    const oldestWaiting = (await this.db('processing_checklist')
      .where({ state: 'queued' })
      .whereNull('claim_token')
      .andWhere('next_attempt_at', '<=', now)
      .min({ at: 'next_attempt_at' })
      .first()) as { at: unknown } | undefined;
    const waitingSince =
      oldestWaiting?.at === null || oldestWaiting?.at === undefined ? now : Number(oldestWaiting.at);
    for (const row of rows) {
      const expiredAt = Number(row.lease_expires_at);
      const key = `${String(row.media_id)}@${expiredAt}`;
      if (waitingSince < expiredAt) continue; // older work is still being taken first
      // Counted from when it became the oldest due work (or its lease end, if later): the time
      // it spent behind older uploads was its turn in the queue, not a stranded claim.
      const headSince = Math.max(expiredAt, this.headSince.get(key) ?? now);
      this.headSince.set(key, headSince);
      const ms = now - headSince;
      if (ms > this.overdue.ms)
        Object.assign(this.overdue, {
          ms,
          what: `media ${String(row.media_id)} held by ${row.worker_id ?? '?'} at +${Math.round((now - this.t0) / 1000)} s`,
        });
    }
  }

  add(uploads: ChaosUpload[]): void {
    for (const upload of uploads) {
      this.uploads.push(upload);
      this.api.add(upload);
    }
  }

  note(invariant: string, detail: string): void {
    this.violations.push({ invariant, detail });
  }

  async countByStatus(): Promise<Record<string, number>> {
    const rows = (await this.db('media_files')
      .select('status')
      .count({ n: '*' })
      .groupBy('status')) as Array<{
      status: string;
      n: number | string;
    }>;
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  async completedIds(): Promise<number[]> {
    return ((await this.db('media_files').where({ status: 'completed' }).pluck('id')) as unknown[]).map(
      Number,
    );
  }

  pendingPolls(): number {
    return this.api.calls('GET', /^\/api\/media\/pending\/all$/).length;
  }

  /** Waits until every upload is settled (completed and accepted, or failed and cleaned up). */
  async waitSettled(timeoutMs: number): Promise<void> {
    await waitUntil(
      async () => {
        // Cheap first (a full snapshot of 2,000 items every 200 ms would slow the workers down):
        // the fake still lists something, or the database still has work queued.
        if (this.uploads.some((u) => this.api.pending.has(u.id))) return false;
        if ((await this.queuedSteps()).length > 0) return false;
        const snapshot = await takeSnapshot(this.db);
        return this.uploads.every((u) => isSettled(u, snapshot, this.api));
      },
      `all ${this.uploads.length} uploads to settle (completed and accepted, or failed and cleaned up)`,
      timeoutMs,
      () => this.describeUnsettled(),
    );
  }

  /** The checklist rows still queued: media id, the worker holding it (if any) and when it may run next. */
  private async queuedSteps(): Promise<
    Array<{ media_id: number; worker_id: string | null; next_attempt_at: number | string }>
  > {
    return (await this.db('processing_checklist')
      .where({ state: 'queued' })
      .select('media_id', 'worker_id', 'next_attempt_at')) as Array<{
      media_id: number;
      worker_id: string | null;
      next_attempt_at: number | string;
    }>;
  }

  /** Says, from a fresh look, what keeps the run from settling: listed ids, queued steps, unsettled uploads. */
  private async describeUnsettled(): Promise<string> {
    try {
      const snapshot = await takeSnapshot(this.db);
      const unsettled = this.uploads.filter((u) => !isSettled(u, snapshot, this.api));
      const listed = this.uploads.filter((u) => this.api.pending.has(u.id)).map((u) => u.id);
      const queued = (await this.queuedSteps()).map(
        (q) =>
          `#${q.media_id} ${q.worker_id ?? 'unclaimed'} next in ${Math.round((Number(q.next_attempt_at) - Date.now()) / 1000)}s`,
      );
      // The blocking uploads first: those still listed by the fake, then the other unsettled ones.
      const ordered = [
        ...unsettled.filter((u) => listed.includes(u.id)),
        ...unsettled.filter((u) => !listed.includes(u.id)),
      ];
      const shown = ordered.slice(0, 8).map((u) => describeUpload(u, snapshot, this.api, this.t0));
      const exits = this.cluster
        .unexpectedExits()
        .map((i) => `${i.slot}#${i.n} exited ${i.exit?.code ?? i.exit?.signal}`);
      return [
        `${unsettled.length} unsettled; still listed by the fake: ${listed.join(',') || 'none'}; queued steps: ${queued.slice(0, 10).join('; ') || 'none'}; media by status ${JSON.stringify(snapshot.countByStatus)}; live workers ${this.cluster.live().join(',') || 'none'}${exits.length ? `; unexpected exits: ${exits.join(', ')}` : ''}; logs in ${this.logDir}`,
        ...shown,
      ].join('\n');
    } catch (error) {
      return `(could not read the database: ${(error as Error).message})`;
    }
  }

  /** Lets `n` more pending-list polls happen: a second report of anything would show by then. */
  async waitForMorePolls(n: number, timeoutMs = 30_000): Promise<void> {
    const polls = this.pendingPolls();
    await waitUntil(() => this.pendingPolls() >= polls + n, `${n} more pending-list polls`, timeoutMs);
  }

  /**
   * The end of a scenario: scrape /metrics, check every invariant, stop the
   * workers (each must exit 0 on SIGTERM), record the figures. Returns the
   * violations (empty when the scenario passed) formatted for the assertion.
   */
  async finish(options: FinishOptions = {}): Promise<{ violations: Violation[]; message: string }> {
    const snapshot = await takeSnapshot(this.db);
    const scrapes: Array<{ slot: string; samples: Samples }> = [];
    for (const slot of this.cluster.live()) {
      try {
        scrapes.push({ slot, samples: await scrapeMetrics(this.cluster.port(slot)) });
      } catch (error) {
        this.note('metrics', `${slot}: ${(error as Error).message}`);
      }
    }
    const uploads = checkUploads(this.uploads, snapshot, this.api, this.t0);
    const files = await checkFiles(this.uploads, snapshot, {
      storageDir: this.storageDir,
      fullDecodeItems: options.fullDecodeItems ?? Number.POSITIVE_INFINITY,
    });
    const violations = [
      ...this.violations,
      ...uploads.violations,
      ...files.violations,
      ...checkLeases(snapshot, LEASE_MS + IDLE_MAX_MS),
      ...checkMetrics(scrapes, snapshot, options.exactCounters === true),
    ];
    for (const incarnation of this.cluster.unexpectedExits())
      violations.push({
        invariant: 'process',
        detail: `${incarnation.slot}#${incarnation.n} (pid ${incarnation.pid}) exited on its own: code ${incarnation.exit?.code} signal ${incarnation.exit?.signal} after ${Math.round((incarnation.exit!.at - incarnation.startedAt) / 1000)} s; stderr: ${tail(incarnation.stderr, 800)}; log ${incarnation.logFile}`,
      });
    clearInterval(this.leaseWatch);
    if (this.overdue.ms > (options.staleLeaseLimitMs ?? STALE_LEASE_LIMIT_MS))
      violations.push({
        invariant: 'lease',
        detail: `an item stayed claimed ${Math.round(this.overdue.ms / 1000)} s past its lease without being taken over (${this.overdue.what})`,
      });
    for (const problem of await this.cluster.stopAll())
      violations.push({ invariant: 'shutdown', detail: problem });
    violations.push(...this.rawStackTraces());
    const figures = {
      scenario: this.options.scenario,
      uploads: this.uploads.length,
      completed: uploads.tally.completed,
      failed: uploads.tally.failed,
      lost: uploads.tally.lost,
      doubled: uploads.tally.doubled,
      kills: this.cluster.kills,
      restarts: this.cluster.restarts,
      processes: this.cluster.incarnations.length,
      peakRssMb: this.cluster.peakRssMb(),
      pendingPolls: this.pendingPolls(),
      mainApiRequests: this.api.requests.length,
      filesChecked: files.filesChecked,
      tempFilesLeft: files.tempFilesLeft,
      maxLeaseOverdueSeconds: Math.round(this.overdue.ms / 1000),
      violations: violations.length,
      seconds: Math.round((Date.now() - this.t0) / 1000),
      ...options.figures,
    };
    recordFigures(figures);
    return { violations, message: formatViolations(violations) };
  }

  /** Raw stack traces in a worker's output: an error escaped the logger (e.g. knex printing to the console). */
  private rawStackTraces(): Violation[] {
    const violations: Violation[] = [];
    for (const incarnation of this.cluster.incarnations) {
      const text = fs.existsSync(incarnation.logFile) ? fs.readFileSync(incarnation.logFile, 'utf8') : '';
      const plain = text.split('\n').filter((line) => !line.startsWith('{'));
      const at = plain.findIndex((line) => RAW_STACK_FRAME.test(line));
      if (at >= 0)
        violations.push({
          invariant: 'output',
          detail: `${incarnation.slot}#${incarnation.n} printed a raw stack trace (not a log line): ${plain.slice(Math.max(0, at - 3), at + 3).join(' | ')} (${incarnation.logFile})`,
        });
    }
    return violations;
  }

  async dispose(): Promise<void> {
    clearInterval(this.leaseWatch);
    await this.cluster?.dispose();
    await this.api.stop().catch(() => undefined);
    if (this.db) {
      await this.dropDatabase();
      await this.db.destroy().catch(() => undefined);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
