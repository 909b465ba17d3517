/** Row shapes read from the database, and the readers that return them. */
import type { Db } from './connect.js';
import type { StepName, StepStatus } from './step-columns.js';
import { STEP_COLUMN, STEP_NAMES, attemptsColumn } from './step-columns.js';

export type MediaStatus = 'pending' | 'downloading' | 'processing' | 'completed' | 'failed' | 'deleted';

export interface MediaRecord {
  id: number;
  main_api_id: number | null;
  source: 'main_api' | 'local';
  source_path: string;
  user_id: number;
  role: string;
  data_type: string;
  original_name: string | null;
  declared_mime_type: string | null;
  mime_type: string | null;
  file_size: number | null;
  sha256: string | null;
  width: number | null;
  height: number | null;
  has_alpha: boolean | number | null;
  bulk_path: string | null;
  library_path: string | null;
  status: MediaStatus;
  is_test_data: boolean | number;
  expires_at: number | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
  deleted_at: number | null;
  duplicate_of: number | null;
  callback_result: CallbackResult | null;
  callback_reported_at: number | null;
  callback_resends: number;
  callback_resent_at: number | null;
}

/** What the main API said to an item's completion (see MainApiClient.reportComplete). */
export type CallbackResult = 'accepted' | 'accepted_minimal' | 'already_processed' | 'upload_unknown';

export interface ChecklistRecord {
  media_id: number;
  state: 'queued' | 'completed' | 'failed';
  worker_id: string | null;
  claim_token: string | null;
  taken_over_from: string | null;
  lease_expires_at: number | null;
  next_attempt_at: number;
  last_error: string | null;
  last_error_class: string | null;
  failed_step: string | null;
  failed_at: number | null;
  heal_count: number;
  gave_up_at: number | null;
  created_at: number;
  updated_at: number;
  [column: string]: unknown;
}

export interface StepState {
  step: StepName;
  status: StepStatus;
  attempts: number;
}

/** mysql2 returns BIGINT as number (safe below 2^53) but some drivers give strings: normalise. */
function numeric<T extends object>(row: T, columns: readonly string[]): T {
  const out = { ...row } as Record<string, unknown>;
  for (const column of columns) {
    const value = out[column];
    if (typeof value === 'string' && value !== '') out[column] = Number(value);
  }
  return out as T;
}

const MEDIA_NUMERIC = [
  'id',
  'main_api_id',
  'user_id',
  'file_size',
  'expires_at',
  'created_at',
  'updated_at',
  'completed_at',
  'deleted_at',
  'callback_resends',
  'callback_reported_at',
  'callback_resent_at',
];
const CHECKLIST_NUMERIC = [
  'media_id',
  'lease_expires_at',
  'next_attempt_at',
  'failed_at',
  'gave_up_at',
  'created_at',
  'updated_at',
];

export async function findMedia(db: Db, id: number): Promise<MediaRecord | undefined> {
  const row = (await db('media_files').where({ id }).first()) as MediaRecord | undefined;
  return row && numeric(row, MEDIA_NUMERIC);
}

export async function findChecklist(db: Db, mediaId: number): Promise<ChecklistRecord | undefined> {
  const row = (await db('processing_checklist').where({ media_id: mediaId }).first()) as
    ChecklistRecord | undefined;
  return row && numeric(row, CHECKLIST_NUMERIC);
}

export function stepStates(checklist: ChecklistRecord): StepState[] {
  return STEP_NAMES.map((step) => ({
    step,
    status: checklist[STEP_COLUMN[step]] as StepStatus,
    attempts: Number(checklist[attemptsColumn(step)]),
  }));
}

export function stepState(checklist: ChecklistRecord, step: StepName): StepState {
  return {
    step,
    status: checklist[STEP_COLUMN[step]] as StepStatus,
    attempts: Number(checklist[attemptsColumn(step)]),
  };
}
