/**
 * What the database says at the end of a chaos scenario, read in a few
 * queries, and the evidence for one upload: the fake main API's recorded
 * requests for it next to its rows and processing events, so that a broken
 * invariant names the upload and shows what happened to it.
 */
import type { Db } from '../../src/db/connect.js';
import type { FakeMainApi, RecordedRequest } from '../helpers/fake-main-api.js';
import type { ChaosUpload } from './uploads.js';

export interface MediaRow {
  id: number;
  main_api_id: number;
  status: string;
  mime_type: string | null;
  file_size: number | null;
  sha256: string | null;
  width: number | null;
  height: number | null;
  bulk_path: string | null;
  failure_reported_at: number | null;
}

export interface ChecklistRow {
  media_id: number;
  state: string;
  worker_id: string | null;
  claim_token: string | null;
  lease_expires_at: number | null;
  last_error: string | null;
  last_error_class: string | null;
  failed_step: string | null;
  heal_count: number;
  [column: string]: unknown;
}

export interface VariantRow {
  media_id: number;
  size: string;
  format: string;
  bg: string;
  width: number;
  height: number;
  bytes: number;
  path: string;
}

export interface EventRow {
  media_id: number;
  step: string | null;
  event: string;
  attempt: number | null;
  worker_id: string | null;
  error_class: string | null;
  message: string | null;
  at: number;
}

export interface Snapshot {
  takenAt: number;
  byMainApiId: Map<number, MediaRow>;
  checklist: Map<number, ChecklistRow>;
  variants: Map<number, VariantRow[]>;
  events: Map<number, EventRow[]>;
  mediaCount: number;
  countByStatus: Record<string, number>;
}

export const STEP_COLUMNS = ['retrieve_file', 'ai_visual_analysis', 'resize_optimize', 'update_callback'];

function group<T extends { media_id: number }>(rows: T[]): Map<number, T[]> {
  const map = new Map<number, T[]>();
  for (const row of rows) {
    const list = map.get(row.media_id) ?? [];
    list.push(row);
    map.set(row.media_id, list);
  }
  return map;
}

const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));

export async function takeSnapshot(db: Db): Promise<Snapshot> {
  const media = ((await db('media_files').select('*')) as Array<Record<string, unknown>>).map(
    (row) =>
      ({
        ...row,
        id: Number(row.id),
        main_api_id: Number(row.main_api_id),
        file_size: num(row.file_size),
        failure_reported_at: num(row.failure_reported_at),
      }) as MediaRow,
  );
  const checklist = ((await db('processing_checklist').select('*')) as Array<Record<string, unknown>>).map(
    (row) =>
      ({
        ...row,
        media_id: Number(row.media_id),
        lease_expires_at: num(row.lease_expires_at),
      }) as ChecklistRow,
  );
  const variants = (
    (await db('media_variants').select(
      'media_id',
      'size',
      'format',
      'bg',
      'width',
      'height',
      'bytes',
      'path',
    )) as Array<Record<string, unknown>>
  ).map((row) => ({ ...row, media_id: Number(row.media_id), bytes: Number(row.bytes) }) as VariantRow);
  const events = (
    (await db('processing_events').select('*').orderBy('id')) as Array<Record<string, unknown>>
  ).map((row) => ({ ...row, media_id: Number(row.media_id), at: Number(row.at) }) as EventRow);
  const countByStatus: Record<string, number> = {};
  for (const row of media) countByStatus[row.status] = (countByStatus[row.status] ?? 0) + 1;
  return {
    takenAt: Date.now(),
    byMainApiId: new Map(media.map((row) => [row.main_api_id, row])),
    checklist: new Map(checklist.map((row) => [row.media_id, row])),
    variants: group(variants),
    events: group(events),
    mediaCount: media.length,
    countByStatus,
  };
}

/** The fake main API's requests that concern one upload: its file, its complete and its cleanup. */
export function requestsFor(
  api: FakeMainApi,
  upload: Pick<ChaosUpload, 'id' | 'imagePath'>,
): RecordedRequest[] {
  const complete = `/api/media/complete/${upload.id}`;
  const cleanup = `/api/media/cleanup/${upload.id}`;
  return api.requests.filter((r) => r.url === upload.imagePath || r.url === complete || r.url === cleanup);
}

const rel = (at: number, t0: number) => `+${((at - t0) / 1000).toFixed(1)}s`;
const clip = (text: string | null | undefined, n = 220) =>
  text === null || text === undefined ? '-' : text.length > n ? `${text.slice(0, n)}…` : text;

export function describeRequests(requests: RecordedRequest[], t0: number, limit = 16): string {
  const shown = requests.slice(-limit).map((r) => {
    const key = r.headers['idempotency-key'] ? ` key=${String(r.headers['idempotency-key'])}` : '';
    const fault = r.fault ? ` [fault ${r.fault}]` : '';
    return `${rel(r.at, t0)} ${r.method} ${r.url} → ${r.status ?? 'no answer'}${fault}${key}`;
  });
  const skipped = requests.length > limit ? `(${requests.length - limit} earlier) ` : '';
  return requests.length === 0 ? 'none' : skipped + shown.join('; ');
}

/** Everything known about one upload, on a few lines. */
export function describeUpload(
  upload: ChaosUpload,
  snapshot: Snapshot,
  api: FakeMainApi,
  t0: number,
): string {
  const lines = [
    `upload ${upload.id} "${upload.label}" (${upload.imagePath}), expected ${upload.expect}`,
    `  fake API: ${describeRequests(requestsFor(api, upload), t0)}`,
  ];
  const media = snapshot.byMainApiId.get(upload.id);
  if (!media) return [...lines, '  media_files: no row'].join('\n');
  lines.push(
    `  media_files #${media.id}: status=${media.status} mime=${media.mime_type ?? '-'} bytes=${media.file_size ?? '-'} ` +
      `bulk_path=${media.bulk_path ?? '-'} failure_reported_at=${media.failure_reported_at ?? '-'}`,
  );
  const row = snapshot.checklist.get(media.id);
  if (row) {
    const steps = STEP_COLUMNS.map((c) => `${c}=${String(row[c])}×${String(row[`${c}_attempts`])}`).join(' ');
    const lease = row.lease_expires_at === null ? '-' : rel(row.lease_expires_at, t0);
    lines.push(
      `  checklist: state=${row.state} ${steps} heal_count=${row.heal_count} worker=${row.worker_id ?? '-'} ` +
        `claim=${row.claim_token ? 'held' : '-'} lease_until=${lease} class=${row.last_error_class ?? '-'} ` +
        `failed_step=${row.failed_step ?? '-'} last_error=${clip(row.last_error)}`,
    );
  } else lines.push('  checklist: no row');
  const events = snapshot.events.get(media.id) ?? [];
  const shown = events.slice(-14).map((e) => {
    const error = e.error_class ? ` ${e.error_class}: ${clip(e.message, 120)}` : '';
    return `${rel(e.at, t0)} ${e.worker_id ?? '-'} ${e.step ?? '-'} ${e.event}${e.attempt ? `#${e.attempt}` : ''}${error}`;
  });
  lines.push(
    `  events: ${events.length > 14 ? `(${events.length - 14} earlier) ` : ''}${shown.join('; ') || 'none'}`,
  );
  return lines.join('\n');
}
