/**
 * The invariants every chaos scenario ends with (issue 13):
 * - every listed upload is completed (exactly one accepted POST complete, all
 *   under Idempotency-Key media-<media_id>; rows completed; every variant and
 *   the original on disk and decodable at the recorded size) or failed with a
 *   recorded reason and exactly one accepted DELETE cleanup — never both;
 * - no file a row names is half-written, and no row names a temp file;
 * - no item is still held once its lease has passed.
 * Each violation names the upload and carries its evidence.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { FakeMainApi, RecordedRequest } from '../helpers/fake-main-api.js';
import { STEP_COLUMNS, describeUpload, requestsFor, type MediaRow, type Snapshot } from './snapshot.js';
import type { ChaosUpload } from './uploads.js';

export interface Violation {
  invariant: string;
  mainApiId?: number;
  detail: string;
}

export interface UploadTally {
  completed: number;
  failed: number;
  /** Uploads that should have been delivered and were not (failed, cleaned up, or never settled). */
  lost: number;
  /** Uploads reported twice: two accepted completions or cleanups, or both a completion and a cleanup. */
  doubled: number;
}

const TEMP_PREFIX = '.tmp-';
const BASE_SIZES = ['thumbnail', 'small', 'grid', 'detail'];
const is2xx = (r: RecordedRequest) => r.status !== undefined && r.status >= 200 && r.status < 300;

type Outcome = 'completed' | 'failed' | 'unsettled';

function outcomeOf(media: MediaRow | undefined, snapshot: Snapshot): Outcome {
  const state = media && snapshot.checklist.get(media.id)?.state;
  if (media?.status === 'completed' && state === 'completed') return 'completed';
  if (media?.status === 'failed' && state === 'failed') return 'failed';
  return 'unsettled';
}

/**
 * Settled: completed and accepted by the main API, or failed and cleaned up there.
 * A transiently failed item waiting to be healed is not settled.
 */
export function isSettled(upload: ChaosUpload, snapshot: Snapshot, api: FakeMainApi): boolean {
  const media = snapshot.byMainApiId.get(upload.id);
  const outcome = outcomeOf(media, snapshot);
  const requests = requestsFor(api, upload);
  if (outcome === 'completed')
    return requests.some((r) => r.method === 'POST' && (is2xx(r) || r.status === 409));
  if (outcome === 'failed') return requests.some((r) => r.method === 'DELETE' && is2xx(r));
  return false;
}

function expectationMet(upload: ChaosUpload, outcome: Outcome, errorClass: string | null): boolean {
  if (upload.expect === 'completed') return outcome === 'completed';
  if (upload.expect === 'completed-or-INVALID_INPUT')
    return outcome === 'completed' || (outcome === 'failed' && errorClass === 'INVALID_INPUT');
  return outcome === 'failed' && errorClass === upload.expect;
}

/** The per-upload invariants (rows and the main API's record); files are checked by checkFiles. */
export function checkUploads(
  uploads: ChaosUpload[],
  snapshot: Snapshot,
  api: FakeMainApi,
  t0: number,
): { violations: Violation[]; tally: UploadTally } {
  const violations: Violation[] = [];
  const tally: UploadTally = { completed: 0, failed: 0, lost: 0, doubled: 0 };
  for (const upload of uploads) {
    const found: string[] = [];
    let lost = false;
    let doubled = false;
    const media = snapshot.byMainApiId.get(upload.id);
    const row = media && snapshot.checklist.get(media.id);
    const outcome = outcomeOf(media, snapshot);
    const requests = requestsFor(api, upload);
    const posts = requests.filter((r) => r.method === 'POST');
    const acceptedPosts = posts.filter(is2xx);
    const deletes = requests.filter((r) => r.method === 'DELETE');
    const acceptedDeletes = deletes.filter(is2xx);
    if (!media) found.push('lost: the upload was listed but has no media_files row');
    else if (outcome === 'unsettled')
      found.push(`unsettled: media status ${media.status}, checklist state ${row?.state ?? 'missing'}`);
    if (outcome === 'unsettled') lost = true;
    if (outcome !== 'unsettled' && !expectationMet(upload, outcome, row?.last_error_class ?? null)) {
      found.push(
        `outcome: expected ${upload.expect}, got ${outcome}${row?.last_error_class ? ` (${row.last_error_class} at ${row.failed_step ?? '?'}: ${row.last_error ?? ''})` : ''}`,
      );
      if (upload.expect === 'completed') lost = true;
    }
    if (outcome === 'completed' && media && row) {
      tally.completed++;
      if (acceptedPosts.length !== 1)
        found.push(`completion: ${acceptedPosts.length} accepted POST complete (exactly 1 expected)`);
      if (acceptedPosts.length > 1) doubled = true;
      if (acceptedPosts.length === 0) lost = true;
      const keys = new Set(posts.map((p) => String(p.headers['idempotency-key'])));
      if (posts.length > 0 && (keys.size !== 1 || !keys.has(`media-${media.id}`)))
        found.push(`completion: Idempotency-Key(s) ${[...keys].join(', ')}, expected media-${media.id}`);
      const bodyIds = new Set(
        posts.map((p) => (JSON.parse(p.body || '{}') as { media_id?: unknown }).media_id),
      );
      if (posts.length > 0 && (bodyIds.size !== 1 || !bodyIds.has(String(media.id))))
        found.push(
          `completion: body media_id(s) ${[...bodyIds].map(String).join(', ')}, expected "${media.id}"`,
        );
      if (deletes.length > 0) {
        found.push(`both: completed, yet ${deletes.length} DELETE cleanup call(s) were sent`);
        doubled = true;
      }
      const stepProblems = STEP_COLUMNS.filter((c) => !['completed', 'skipped'].includes(String(row[c])));
      if (stepProblems.length > 0 || row.update_callback !== 'completed')
        found.push(
          `rows: completed item with steps ${STEP_COLUMNS.map((c) => `${c}=${String(row[c])}`).join(' ')}`,
        );
      const sizes = new Set((snapshot.variants.get(media.id) ?? []).map((v) => v.size));
      const missing = BASE_SIZES.filter((s) => !sizes.has(s));
      if (missing.length > 0) found.push(`rows: completed item lacks variant sizes ${missing.join(', ')}`);
    }
    if (outcome === 'failed' && media && row) {
      tally.failed++;
      if (!row.last_error || !row.last_error_class || !row.failed_step)
        found.push('failure: failed without last_error, last_error_class and failed_step all recorded');
      if (acceptedDeletes.length !== 1)
        found.push(`cleanup: ${acceptedDeletes.length} accepted DELETE cleanup (exactly 1 expected)`);
      const firstAccepted = acceptedDeletes[0];
      const after = firstAccepted ? deletes.slice(deletes.indexOf(firstAccepted) + 1) : [];
      if (acceptedDeletes.length > 1 || after.length > 0) {
        found.push(`cleanup: ${after.length} DELETE call(s) after the accepted one`);
        doubled = true;
      }
      if (acceptedPosts.length > 0) {
        found.push(
          `both: failed and cleaned up, yet the main API accepted ${acceptedPosts.length} POST complete`,
        );
        doubled = true;
      }
    }
    if ((row?.claim_token || row?.worker_id) && row.state !== 'queued')
      found.push(`lease: ${row.state} item still carries a claim (worker ${row.worker_id ?? '?'})`);
    if (lost) tally.lost++;
    if (doubled) tally.doubled++;
    if (found.length > 0)
      violations.push({
        invariant: found.map((f) => f.split(':')[0]).join('+'),
        mainApiId: upload.id,
        detail: `${found.join('\n  ')}\n${describeUpload(upload, snapshot, api, t0)}`,
      });
  }
  return { violations, tally };
}

/** Items still held by a claim whose lease has passed (its holder is gone and nobody took it over). */
export function checkLeases(snapshot: Snapshot, graceMs: number): Violation[] {
  const violations: Violation[] = [];
  for (const row of snapshot.checklist.values()) {
    if (!row.claim_token || row.lease_expires_at === null) continue;
    const overdue = snapshot.takenAt - row.lease_expires_at;
    if (overdue > graceMs)
      violations.push({
        invariant: 'lease',
        detail: `media ${row.media_id} (state ${row.state}) held by ${row.worker_id ?? '?'} ${Math.round(overdue / 1000)} s past its lease`,
      });
  }
  return violations;
}

async function sha256Of(file: string): Promise<string> {
  return createHash('sha256')
    .update(await fsp.readFile(file))
    .digest('hex');
}

/** Decodes every pixel (not just the header): a half-written file fails here. */
async function decodedSize(file: string): Promise<{ width: number; height: number }> {
  const { info } = await sharp(file, { limitInputPixels: false, failOn: 'error' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height };
}

async function inPool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

export interface FileCheckOptions {
  storageDir: string;
  /** Decode every pixel of at most this many completed items (the rest: size and header only). */
  fullDecodeItems: number;
}

/**
 * Files: every variant of a completed item exists, has its recorded size and
 * decodes to its recorded width×height; every original a row names has its
 * recorded size and sha256 (not half-written); no row names a temp file.
 */
export async function checkFiles(
  uploads: ChaosUpload[],
  snapshot: Snapshot,
  options: FileCheckOptions,
): Promise<{ violations: Violation[]; filesChecked: number; tempFilesLeft: number }> {
  const violations: Violation[] = [];
  let filesChecked = 0;
  let fullDecodes = 0;
  const add = (mainApiId: number, detail: string) =>
    violations.push({ invariant: 'files', mainApiId, detail });
  await inPool(uploads, 4, async (upload) => {
    const media = snapshot.byMainApiId.get(upload.id);
    if (!media) return;
    const completed = outcomeOf(media, snapshot) === 'completed';
    const full = completed && fullDecodes++ < options.fullDecodeItems;
    const named = [
      ...(media.bulk_path ? [media.bulk_path] : []),
      ...(snapshot.variants.get(media.id) ?? []).map((v) => v.path),
    ];
    for (const name of named)
      if (path.basename(name).startsWith(TEMP_PREFIX)) add(upload.id, `a row names the temp file ${name}`);
    if (media.bulk_path) {
      const file = path.join(options.storageDir, media.bulk_path);
      filesChecked++;
      if (!fs.existsSync(file)) {
        if (completed) add(upload.id, `original ${media.bulk_path} is missing`);
      } else {
        const { size } = await fsp.stat(file);
        if (size !== media.file_size)
          add(upload.id, `original ${media.bulk_path} has ${size} bytes, row says ${media.file_size}`);
        else if (media.sha256 && (await sha256Of(file)) !== media.sha256)
          add(upload.id, `original ${media.bulk_path}: sha256 differs from the row's`);
        else if (full)
          await decodedSize(file).catch((e: Error) =>
            add(upload.id, `original ${media.bulk_path} does not decode: ${e.message}`),
          );
      }
    }
    if (!completed) return;
    for (const variant of snapshot.variants.get(media.id) ?? []) {
      const file = path.join(options.storageDir, variant.path);
      filesChecked++;
      const where = `variant ${variant.size}/${variant.format}/${variant.bg} ${variant.path}`;
      let size: number;
      try {
        size = (await fsp.stat(file)).size;
      } catch {
        add(upload.id, `${where} is missing`);
        continue;
      }
      if (size !== variant.bytes) {
        add(upload.id, `${where} has ${size} bytes, row says ${variant.bytes}`);
        continue;
      }
      try {
        const decoded = full
          ? await decodedSize(file)
          : await sharp(file)
              .metadata()
              .then((m) => ({ width: m.width ?? 0, height: m.height ?? 0 }));
        if (decoded.width !== variant.width || decoded.height !== variant.height)
          add(
            upload.id,
            `${where} decodes to ${decoded.width}×${decoded.height}, row says ${variant.width}×${variant.height}`,
          );
      } catch (error) {
        add(upload.id, `${where} does not decode: ${(error as Error).message}`);
      }
    }
  });
  return { violations, filesChecked, tempFilesLeft: countTempFiles(options.storageDir) };
}

function countTempFiles(root: string): number {
  let count = 0;
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(path.join(dir, entry.name));
      else if (entry.name.startsWith(TEMP_PREFIX)) count++;
    }
  };
  if (fs.existsSync(root)) walk(root);
  return count;
}

export function formatViolations(violations: Violation[], limit = 25): string {
  if (violations.length === 0) return 'no violations';
  const byKind = new Map<string, number>();
  for (const v of violations) byKind.set(v.invariant, (byKind.get(v.invariant) ?? 0) + 1);
  const summary = [...byKind].map(([kind, n]) => `${kind}: ${n}`).join(', ');
  const shown = violations.slice(0, limit).map((v, i) => `#${i + 1} [${v.invariant}] ${v.detail}`);
  const more = violations.length > limit ? `\n… and ${violations.length - limit} more` : '';
  return `${violations.length} invariant violation(s) (${summary}):\n${shown.join('\n')}${more}`;
}
