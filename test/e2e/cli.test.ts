/**
 * The CLI as an operator uses it: spawned as a real process (the built
 * bin/media-worker) against a real database, with its output and exit codes
 * checked.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../migrations/index.js';
import { CLI, ROOT, freePort, runCli, start, waitFor } from '../helpers/processes.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const SAMPLES = path.join(ROOT, 'samples/images');
const SAMPLE_COUNT = fs.readdirSync(SAMPLES).filter((name) => /\.(png|jpe?g)$/.test(name)).length;

describe.each(availableDialects())('media-worker CLI on %s', (dialect) => {
  let t: TestDatabase;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-cli-'));
    env = {
      DATABASE_URL: t.url,
      STORAGE_DIR: path.join(dir, 'storage'),
      POLL_INTERVAL_MS: '20',
      IDLE_MAX_MS: '200',
      RETRY_BASE_MS: '20',
    };
  });
  afterAll(async () => {
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ingests the samples and a non-image, runs once, and reports through stats and show', async () => {
    const notAnImage = path.join(dir, 'notes.jpg');
    fs.writeFileSync(notAnImage, 'this is text pretending to be a JPEG\n');
    const ingest = await runCli(
      ['ingest', SAMPLES, notAnImage, '--role', 'product', '--user', '7', '--json'],
      env,
    );
    expect(ingest.code, ingest.stderr).toBe(0);
    const { ids } = JSON.parse(ingest.stdout) as { ids: number[] };
    expect(ids).toHaveLength(SAMPLE_COUNT + 1);

    const run = await runCli(['run', '--once', '--no-serve', '--concurrency', '2'], env);
    expect(run.code, run.stderr + run.stdout).toBe(0);

    const stats = await runCli(['stats', '--json'], env);
    expect(stats.code, stats.stderr).toBe(0);
    const parsed = JSON.parse(stats.stdout) as {
      queue: {
        byStatus: Record<string, number>;
        failuresByClass: Record<string, number>;
        bySteps: Record<string, Record<string, number>>;
      };
      storage: {
        byArea: Record<string, { files: number; bytes: number }>;
        bytesByFormat: Record<string, number>;
        savedVsJpeg: { avif: number; webp: number };
      };
      disk: { usedPercent: number; freeBytes: number; alert: boolean };
    };
    expect(parsed.queue.byStatus).toEqual({ completed: SAMPLE_COUNT, failed: 1 });
    expect(parsed.queue.failuresByClass).toEqual({ INVALID_INPUT: 1 });
    expect(parsed.queue.bySteps.retrieve).toEqual({ completed: SAMPLE_COUNT, failed: 1 });
    expect(parsed.storage.byArea.bulk!.files).toBe(SAMPLE_COUNT);
    expect(parsed.storage.byArea.library!.files).toBeGreaterThanOrEqual(SAMPLE_COUNT * 4 * 3);
    expect(parsed.storage.savedVsJpeg.avif).toBeGreaterThan(0);
    expect(parsed.storage.savedVsJpeg.webp).toBeGreaterThan(0);
    expect(parsed.disk.freeBytes).toBeGreaterThan(0);

    const show = await runCli(['show', String(ids[0]), '--json'], env);
    expect(show.code, show.stderr).toBe(0);
    const detail = JSON.parse(show.stdout) as {
      media: Record<string, unknown>;
      steps: Array<{ step: string; status: string; attempts: number }>;
      events: Array<{ step: string | null; event: string; message: string | null }>;
    };
    expect(detail.media).toMatchObject({
      status: 'completed',
      user_id: 7,
      role: 'product',
      mime_type: 'image/png',
      width: 451,
      height: 300,
    });
    expect(detail.media.sha256).toMatch(/^[0-9a-f]{64}$/);
    const bulk = path.join(env.STORAGE_DIR!, detail.media.bulk_path as string);
    expect(fs.readFileSync(bulk).equals(fs.readFileSync(path.join(SAMPLES, 'cat-chelsea.png')))).toBe(true);
    expect(detail.steps.find((s) => s.step === 'callback')).toMatchObject({ status: 'skipped', attempts: 1 });
    expect(detail.events.map((e) => `${e.step ?? ''}:${e.event}`)).toEqual([
      ':registered',
      'retrieve:started',
      'retrieve:completed',
      'analyse:started',
      'analyse:completed',
      'resize:started',
      'resize:completed',
      'callback:started',
      'callback:skipped',
      ':completed',
    ]);
    expect(detail.events.find((e) => e.event === 'skipped')!.message).toMatch(/local ingest/);

    const failedShow = await runCli(['show', String(ids[SAMPLE_COUNT])], env);
    expect(failedShow.code).toBe(0);
    expect(failedShow.stdout).toMatch(/last error \(INVALID_INPUT\): not an image/);
    expect(failedShow.stdout).toMatch(/retrieve\s+failed\s+1/);

    const human = await runCli(['stats'], env);
    expect(human.stdout).toMatch(new RegExp(`completed\\s+${SAMPLE_COUNT}`));
    expect(human.stdout).toMatch(/saved vs JPEG: AVIF [\d.]+ MB, WebP [\d.]+ MB/);
    expect(human.stdout).toMatch(/disk \(.+\): [\d.]+% used/);
    expect(human.stdout).toMatch(/failures by class: INVALID_INPUT 1/);
  });

  it('requeue and heal act on the right items', async () => {
    const failedId = Number(
      ((await t.db('media_files').where({ status: 'failed' }).first('id')) as { id: number }).id,
    );
    // heal leaves permanent failures alone.
    const heal = await runCli(['heal', '--json'], env);
    expect(heal.code, heal.stderr).toBe(0);
    expect(JSON.parse(heal.stdout)).toEqual({ healed: [] });

    const unconfirmed = await runCli(['requeue', '--failed', '--since', '1h', '--json'], env);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/--failed selects 1 item\(s\); add --yes to requeue them/);
    const requeue = await runCli(['requeue', '--failed', '--since', '1h', '--yes', '--json'], env);
    expect(requeue.code, requeue.stderr).toBe(0);
    expect(JSON.parse(requeue.stdout)).toEqual({ requeued: [failedId], skipped: [] });
    const show = JSON.parse((await runCli(['show', String(failedId), '--json'], env)).stdout) as {
      media: { status: string };
      steps: Array<{ step: string; status: string; attempts: number }>;
    };
    expect(show.media.status).toBe('pending');
    expect(show.steps[0]).toEqual({ step: 'retrieve', status: 'pending', attempts: 0 });

    const completedId = Number(
      ((await t.db('media_files').where({ status: 'completed' }).first('id')) as { id: number }).id,
    );
    // No step named: a served item is skipped, and the output says why (exit 1: nothing requeued).
    const served = 'completed and served: name a step (analyse, resize or callback) to re-run it';
    const noStep = await runCli(['requeue', String(completedId)], env);
    expect(noStep.code, noStep.stderr).toBe(1);
    expect(noStep.stdout).toBe(`requeued 0 item(s)\nskipped ${completedId}: ${served}\n`);
    const noStepJson = await runCli(['requeue', String(completedId), '--json'], env);
    expect(JSON.parse(noStepJson.stdout)).toEqual({
      requeued: [],
      skipped: [{ id: completedId, reason: served }],
    });
    const untouched = JSON.parse((await runCli(['show', String(completedId), '--json'], env)).stdout) as {
      media: { status: string };
    };
    expect(untouched.media.status).toBe('completed');
    const fromCallback = await runCli(['requeue', String(completedId), '--step', 'callback', '--json'], env);
    expect(JSON.parse(fromCallback.stdout)).toEqual({ requeued: [completedId], skipped: [] });
    const after = JSON.parse((await runCli(['show', String(completedId), '--json'], env)).stdout) as {
      steps: Array<{ step: string; status: string }>;
    };
    expect(after.steps.map((s) => s.status)).toEqual(['completed', 'completed', 'completed', 'pending']);

    const run = await runCli(['run', '--once', '--no-serve'], env);
    expect(run.code).toBe(0);
    const stats = JSON.parse((await runCli(['stats', '--json'], env)).stdout) as {
      queue: { byStatus: Record<string, number> };
    };
    expect(stats.queue.byStatus).toEqual({ completed: SAMPLE_COUNT, failed: 1 });
  });

  it('run serves the processed images and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const { child, finished } = start(
      process.execPath,
      [CLI, 'run', '--no-work', '--http-port', String(port)],
      { ...env, LOG_LEVEL: 'info' },
    );
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok === true,
      'the server to listen',
    );
    const completedId = Number(
      ((await t.db('media_files').where({ status: 'completed' }).first('id')) as { id: number }).id,
    );
    const served = await fetch(`${base}/serve/${completedId}?size=grid`, {
      headers: { accept: 'image/avif' },
    });
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/avif');
    expect((await served.arrayBuffer()).byteLength).toBeGreaterThan(0);
    // Counted on the server's finish event, which may come just after the client has the body.
    const line = 'media_worker_serve_requests_total{status="200",format="avif"} 1';
    await waitFor(
      async () => (await (await fetch(`${base}/metrics`)).text()).includes(line),
      'the serve counter',
    );
    child.kill('SIGTERM');
    const result = await finished;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/"msg":"stopping: no new claims/);
  });

  it('stats --watch redraws until interrupted, then exits 0', async () => {
    const { child, finished } = start(process.execPath, [CLI, 'stats', '--watch', '1', '--json'], env);
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    await waitFor(() => seen.split('\n').filter((line) => line.startsWith('{')).length >= 2, 'two refreshes');
    child.kill('SIGINT');
    const result = await finished;
    expect(result.code, result.stderr).toBe(0);
    for (const line of result.stdout.trim().split('\n'))
      expect(JSON.parse(line)).toHaveProperty('queue.byStatus');
  });

  it('migrate status lists the applied migration', async () => {
    const status = await runCli(['migrate', 'status', '--json'], env);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual({ applied: MIGRATIONS.map((m) => m.name), pending: [] });
  });
});

describe('bad configuration and arguments', () => {
  const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
    [
      'a wrong DATABASE_URL',
      ['stats'],
      { DATABASE_URL: 'postgres://x/y' },
      /DATABASE_URL must start with sqlite: or mysql:\/\//,
    ],
    [
      'an unknown analysis provider',
      ['doctor'],
      { ANALYSIS_PROVIDERS: 'local,vision' },
      /ANALYSIS_PROVIDERS must list providers among local, models, remote, openai, google \(got "local,vision"\)/,
    ],
    [
      'the remote provider without its URL',
      ['doctor'],
      { ANALYSIS_PROVIDERS: 'local,remote' },
      /ANALYSIS_PROVIDERS includes remote, so ANALYSIS_REMOTE_URL must be set/,
    ],
    [
      'a negative CONCURRENCY',
      ['run', '--once'],
      { CONCURRENCY: '-2' },
      /CONCURRENCY must be a positive integer \(got "-2"\)/,
    ],
    [
      'an unknown LOG_LEVEL',
      ['stats'],
      { LOG_LEVEL: 'loud' },
      /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent \(got "loud"\)/,
    ],
    [
      'a MySQL URL without a database',
      ['stats'],
      { DATABASE_URL: 'mysql://root@127.0.0.1:3306' },
      /DATABASE_URL must name one database/,
    ],
    [
      'MAIN_API_URL without a key',
      ['stats'],
      { MAIN_API_URL: 'http://127.0.0.1:9' },
      /MAIN_API_URL needs MEDIA_API_KEY/,
    ],
    [
      'a bad --concurrency flag',
      ['run', '--concurrency', 'many'],
      {},
      /CONCURRENCY must be a positive integer \(got "many"\)/,
    ],
    ['a bad media id', ['show', 'abc'], {}, /id must be a positive integer media id \(got "abc"\)/],
    [
      'an unknown step',
      ['requeue', '1', '--step', 'paint'],
      {},
      /--step must be one of retrieve, analyse, resize, callback \(got "paint"\)/,
    ],
    [
      'an unknown role',
      ['ingest', 'samples', '--role', 'banner'],
      {},
      /--role must be one of profile, header, logo, site, product, event/,
    ],
    [
      'a missing file',
      ['ingest', '/nonexistent/file.jpg'],
      {},
      /no such file or directory: \/nonexistent\/file.jpg/,
    ],
    ['an unknown command', ['paint'], {}, /unknown command 'paint'/],
    ['an unknown option', ['stats', '--colour'], {}, /unknown option '--colour'/],
  ];
  it.each(cases)(
    '%s: one clear line on stderr, exit code 2, no stack trace',
    async (_name, args, extraEnv, message) => {
      const result = await runCli(args, {
        DATABASE_URL: 'sqlite:/nonexistent-dir-for-tests/x.sqlite',
        ...extraEnv,
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    },
  );

  it('a usage error from commander is one line, hint and suggestion included', async () => {
    for (const [args, line] of [
      [['paint'], "media-worker: unknown command 'paint' (add --help for usage)"],
      [['stat'], "media-worker: unknown command 'stat' (Did you mean stats?) (add --help for usage)"],
      [
        ['stats', '--jsn'],
        "media-worker: unknown option '--jsn' (Did you mean --json?) (add --help for usage)",
      ],
      [['show'], "media-worker: missing required argument 'id' (add --help for usage)"],
    ] as const) {
      const result = await runCli([...args], {});
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(`${line}\n`);
    }
    const help = await runCli(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: media-worker \[options\] \[command\]/);
  });

  it('several problems are reported together', async () => {
    const result = await runCli(['stats'], { CONCURRENCY: '0', LOG_LEVEL: 'loud', HTTP_PORT: '70000' });
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/CONCURRENCY.*HTTP_PORT.*LOG_LEVEL|CONCURRENCY.*LOG_LEVEL/);
    expect(lines[0]).toMatch(/HTTP_PORT must be a port number/);
  });

  it('--help carries an example and exits 0', async () => {
    const result = await runCli(['requeue', '--help'], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Examples:\n\s+\$ media-worker requeue/);
  });
});

describe('doctor', () => {
  it('lists the default providers and their models, and loads them offline', async () => {
    const result = await runCli(['doctor', '--load', '--json'], { LOG_LEVEL: 'warn' });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      providers: string[];
      checks: Array<{
        provider: string;
        models: Array<{ task: string; licence: string; unavailable?: string }>;
        load: { ok: boolean };
      }>;
    };
    expect(report.providers).toEqual(['local', 'models']);
    const models = report.checks.find((check) => check.provider === 'models')!;
    expect(models.models.map((model) => model.task)).toEqual([
      'objects (COCO labels)',
      'faces',
      'moderation',
      'text',
    ]);
    expect(models.models.every((model) => model.licence && !model.unavailable)).toBe(true);
    expect(report.checks.every((check) => check.load.ok)).toBe(true);
  }, 60_000);
});
