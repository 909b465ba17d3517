/**
 * `media-worker storage copy --from <location> --to <location>`: moves an
 * installation's media between a directory and a bucket (or bucket to
 * bucket, or back). The two stores come from the flags, not STORAGE_URL;
 * S3_ENDPOINT, S3_REGION and S3_FORCE_PATH_STYLE apply to the s3:// side.
 * The copying itself is storage/copy-objects.ts; docs/moving-storage.md has
 * the switch-over procedure.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { copyObjects, type CopyReport, type ObjectOutcome } from '../storage/copy-objects.js';
import { objectStoreFor } from '../storage/object-store-for.js';
import { StorageConfigError, type ObjectStore } from '../storage/object-store.js';
import { describeLocation, parseStorageUrl, type StorageLocation } from '../storage/storage-url.js';
import { parseCountArgument } from './arguments.js';
import { printJson } from './context.js';
import { progressReporter, type Progress } from './progress.js';

interface CopyFlags {
  from?: string;
  to?: string;
  dryRun?: boolean;
  json?: boolean;
  concurrency?: string;
  sizeOnly?: boolean;
}

const DEFAULT_CONCURRENCY = 4;
const MAX_CONCURRENCY = 64;
const LOCATION_HELP = 'fs:<directory>, a directory path, or s3://bucket[/prefix]';

export function registerStorageCommand(program: Command): void {
  const storage = program.command('storage').description('operations on the stored media as a whole');
  storage
    .command('copy')
    .description(
      'copy every object from one storage location to another under the same key, verified (size and sha256 read back); a re-run skips what is already there and identical',
    )
    .option('--from <location>', `where the media is now: ${LOCATION_HELP}`)
    .option('--to <location>', `where it should be: ${LOCATION_HELP}`)
    .option('--dry-run', 'list what would be copied, replaced and skipped; change nothing')
    .option('--json', 'print the summary as JSON')
    .option('--concurrency <n>', `objects copied at once, 1–${MAX_CONCURRENCY}`, String(DEFAULT_CONCURRENCY))
    .option(
      '--size-only',
      'skip a destination object of the same size without reading either side (faster re-runs; misses same-size differences)',
    )
    .addHelpText(
      'after',
      '\nS3_ENDPOINT, S3_REGION and S3_FORCE_PATH_STYLE apply to the s3:// side; credentials come from the AWS chain.\n' +
        'Exit 0: everything copied or already there; 1: an object failed (or could not be verified), or the run was interrupted.\n' +
        'Procedure: docs/moving-storage.md.\n\nExamples:\n' +
        '  $ media-worker storage copy --from fs:var/storage --to s3://media/prod --dry-run\n' +
        '  $ S3_ENDPOINT=http://127.0.0.1:9000 media-worker storage copy --from var/storage --to s3://media --json',
    )
    .action(async (flags: CopyFlags, command: Command) => {
      const concurrency = parseConcurrency(flags.concurrency ?? String(DEFAULT_CONCURRENCY));
      const from = parseLocationFlag('--from', flags.from);
      const to = parseLocationFlag('--to', flags.to);
      assertSeparate(from, to);
      const config = storageConfig(command, from, to);
      const log = createLogger(config.logLevel, 'stderr');
      // Directories first: a wrong path is reported before any S3 client is made.
      if (from.kind === 'fs') await assertReadableDirectory('--from', from.root, true);
      if (to.kind === 'fs' && flags.dryRun) await assertReadableDirectory('--to', to.root, false);
      const stores: ObjectStore[] = [];
      try {
        const source = objectStoreFor({ ...config, storageUrl: from });
        stores.push(source);
        const destination = objectStoreFor({ ...config, storageUrl: to });
        stores.push(destination);
        // The source is only read: a directory is not probed with a write (it may be read-only).
        if (from.kind === 's3') await checkStore('--from', source);
        // A dry run writes nothing, not even check()'s probe (nor the directory it would create).
        if (to.kind === 's3' || !flags.dryRun) await checkStore('--to', destination);
        const report = await runCopy(source, destination, to, flags, concurrency, log);
        if (flags.json) printJson(report);
        else console.log(renderReport(report));
        if (report.failed > 0 || report.interrupted) process.exitCode = 1;
      } finally {
        for (const store of stores) await store.close();
      }
    });
}

async function runCopy(
  source: ObjectStore,
  destination: ObjectStore,
  to: StorageLocation,
  flags: CopyFlags,
  concurrency: number,
  log: Logger,
): Promise<CopyReport> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let progress: Progress | undefined;
  try {
    const report = await copyObjects(source, destination, {
      concurrency,
      dryRun: flags.dryRun === true,
      sizeOnly: flags.sizeOnly === true,
      destinationKeepsMetadata: to.kind === 's3',
      signal: controller.signal,
      onListed: (objects) => {
        log.info({ from: source.description, to: destination.description, objects }, 'listed the source');
        progress = progressReporter(flags.dryRun ? 'checking' : 'copying', objects, flags.json === true);
      },
      onObject: (outcome, done) => {
        progress?.update(done);
        logOutcome(log, outcome, flags.dryRun === true);
      },
    });
    progress?.done();
    log.info({ ...report, failures: report.failures.length, plan: undefined }, 'storage copy finished');
    return report;
  } finally {
    progress?.done();
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}

function logOutcome(log: Logger, outcome: ObjectOutcome, dryRun: boolean): void {
  if (outcome.action === 'failed') log.error({ key: outcome.key, error: outcome.reason }, 'copy failed');
  else if (outcome.action === 'replaced' && !dryRun)
    log.warn({ key: outcome.key, reason: outcome.reason }, 'replaced a different object at the destination');
  else if (outcome.action === 'vanished') log.warn({ key: outcome.key }, 'deleted at the source meanwhile');
}

function parseConcurrency(raw: string): number {
  const value = parseCountArgument(raw, '--concurrency');
  if (value > MAX_CONCURRENCY) {
    throw new UsageError(`--concurrency must be at most ${MAX_CONCURRENCY} (got "${raw}")`);
  }
  return value;
}

function parseLocationFlag(flag: string, raw: string | undefined): StorageLocation {
  if (raw === undefined || raw.trim() === '') throw new UsageError(`${flag} is required: ${LOCATION_HELP}`);
  try {
    return parseStorageUrl(raw);
  } catch (error) {
    throw new UsageError(`${flag} ${(error as Error).message}`);
  }
}

/** The same location twice, or one inside the other, would copy objects onto themselves or into the source. */
function assertSeparate(from: StorageLocation, to: StorageLocation): void {
  const a = comparable(from);
  const b = comparable(to);
  if (a === b) throw new UsageError(`--from and --to name the same location (${describeLocation(from)})`);
  if (a.startsWith(b) || b.startsWith(a)) {
    throw new UsageError(
      `--from (${describeLocation(from)}) and --to (${describeLocation(to)}) overlap: one lies inside the other`,
    );
  }
}

function comparable(location: StorageLocation): string {
  if (location.kind === 's3') return `s3://${location.bucket}/${location.prefix}`;
  let root = location.root;
  try {
    root = fs.realpathSync(root);
  } catch {
    // Not there yet: compared as written.
  }
  return `fs:${root.endsWith('/') ? root : `${root}/`}`;
}

/**
 * The S3 settings (and LOG_LEVEL) from env and the global flags. The
 * locations come from --from/--to, so STORAGE_URL and STORAGE_DIR are left
 * out, and the s3:// side stands in for STORAGE_URL: the config's rule that
 * S3_ENDPOINT needs an s3:// STORAGE_URL then holds for this command too.
 */
function storageConfig(command: Command, from: StorageLocation, to: StorageLocation) {
  const { from: _from, to: _to, dryRun, json, concurrency, sizeOnly, ...globals } = command.optsWithGlobals();
  void [_from, _to, dryRun, json, concurrency, sizeOnly];
  delete globals.storageUrl;
  delete globals.storageDir;
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.STORAGE_URL;
  delete env.STORAGE_DIR;
  const bucket = [from, to].find((location) => location.kind === 's3');
  if (bucket) env.STORAGE_URL = describeLocation(bucket);
  return loadConfig(env, globals);
}

/** `mustExist`: a missing directory is an error (a source); else it is fine (a dry run's destination). */
async function assertReadableDirectory(flag: string, root: string, mustExist: boolean): Promise<void> {
  const stats = await fsp.stat(root).catch(() => undefined);
  if (!stats && !mustExist) return;
  if (!stats?.isDirectory()) throw new UsageError(`${flag} ${root}: no such directory`);
  await fsp.access(root, fs.constants.R_OK | fs.constants.X_OK).catch((error: unknown) => {
    throw new UsageError(`${flag} ${root}: not readable (${(error as NodeJS.ErrnoException).code})`);
  });
}

/** Wrong settings (no such bucket, refused credentials, an unusable directory) exit 2; an unreachable server 1. */
async function checkStore(flag: string, store: ObjectStore): Promise<void> {
  try {
    await store.check();
  } catch (error) {
    const message = `${flag} ${store.description}: ${(error as Error).message}`;
    if (error instanceof StorageConfigError) throw new UsageError(message);
    throw new Error(message, { cause: error });
  }
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1_048_576) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}

function renderReport(report: CopyReport): string {
  const verified =
    report.verify === 'sha256' ? 'same size and sha256' : 'same size (--size-only: bytes not compared)';
  if (report.dryRun) {
    const verbs: Record<ObjectOutcome['action'], string> = {
      copied: 'copy',
      replaced: 'replace',
      skipped: 'skip',
      vanished: 'vanished',
      failed: 'failed',
    };
    const lines = (report.plan ?? []).map(
      (o) => `${verbs[o.action].padEnd(8)} ${o.key} (${o.bytes} bytes${o.reason ? `; ${o.reason}` : ''})`,
    );
    return [
      ...lines,
      `dry run: nothing was changed. ${report.objects} objects at ${report.from}: would copy ${report.copied} (${formatBytes(report.bytes)}` +
        `${report.replaced ? `, ${report.replaced} of them replacing a different object` : ''}) to ${report.to}, ` +
        `skip ${report.skipped} already there (${verified})${failureSummary(report)}`,
    ].join('\n');
  }
  return [
    `${report.interrupted ? 'interrupted: ' : ''}${report.objects} objects at ${report.from}; copied ${report.copied} (${formatBytes(report.bytes)}) to ${report.to}, each read back and checked (size, sha256)`,
    ...(report.replaced
      ? [`  ${report.replaced} of them replaced a different object under the same key`]
      : []),
    `skipped ${report.skipped} already there (${verified})`,
    ...(report.vanished ? [`${report.vanished} deleted at the source before they could be copied`] : []),
    ...(report.interrupted
      ? [
          `${report.objects - report.copied - report.skipped - report.vanished - report.failed} not done: run again`,
        ]
      : []),
    `failed ${report.failed}${report.failed ? ' (run again to retry them):' : ''}`,
    ...report.failures.map((f) => `  ${f.key}: ${f.error}`),
  ].join('\n');
}

function failureSummary(report: CopyReport): string {
  if (report.failed === 0) return '';
  return `; ${report.failed} could not be checked:\n${report.failures.map((f) => `  ${f.key}: ${f.error}`).join('\n')}`;
}
