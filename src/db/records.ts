/**
 * The media_files and processing_checklist rows, their mappers, and the
 * readers that return them. A mapper converts every column once (BIGINT
 * strings to numbers, 0/1 to booleans), so callers get the declared types.
 */
import type { Db } from './connect.js';
import {
  readColumns,
  toBoolean,
  toBooleanOrNull,
  toNumber,
  toNumberOrNull,
  toText,
  toTextOrNull,
  type ColumnReaders,
  type RawRow,
} from './row-values.js';
import {
  STEP_COLUMN,
  STEP_NAMES,
  attemptsColumn,
  type ChecklistStepColumns,
  type StepName,
  type StepStatus,
} from './step-columns.js';

export type MediaStatus = 'pending' | 'downloading' | 'processing' | 'completed' | 'failed' | 'deleted';

export interface MediaRecord {
  id: number;
  main_api_id: number | null;
  source: 'main_api' | 'local' | 'http';
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
  has_alpha: boolean | null;
  bulk_path: string | null;
  library_path: string | null;
  status: MediaStatus;
  is_test_data: boolean;
  expires_at: number | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
  deleted_at: number | null;
  duplicate_of: number | null;
  /** ThumbHash (base64) of the decoded image, computed at resize; null for items resized before it was. */
  thumbhash: string | null;
  callback_result: CallbackResult | null;
  callback_reported_at: number | null;
  callback_resends: number;
  callback_resent_at: number | null;
  failure_reported_at: number | null;
  failure_report_claimed_at: number | null;
}

/** What the main API said to an item's completion (see MainApiClient.reportComplete). */
export type CallbackResult = 'accepted' | 'accepted_minimal' | 'already_processed' | 'upload_unknown';

export type { ChecklistStepColumns } from './step-columns.js';

export interface ChecklistRecord extends ChecklistStepColumns {
  media_id: number;
  state: 'queued' | 'completed' | 'failed' | 'deleted';
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
}

export interface StepState {
  step: StepName;
  status: StepStatus;
  attempts: number;
}

const MEDIA_READERS: ColumnReaders<MediaRecord> = {
  id: toNumber,
  main_api_id: toNumberOrNull,
  source: toText,
  source_path: toText,
  user_id: toNumber,
  role: toText,
  data_type: toText,
  original_name: toTextOrNull,
  declared_mime_type: toTextOrNull,
  mime_type: toTextOrNull,
  file_size: toNumberOrNull,
  sha256: toTextOrNull,
  width: toNumberOrNull,
  height: toNumberOrNull,
  has_alpha: toBooleanOrNull,
  bulk_path: toTextOrNull,
  library_path: toTextOrNull,
  status: toText,
  is_test_data: toBoolean,
  expires_at: toNumberOrNull,
  created_at: toNumber,
  updated_at: toNumber,
  completed_at: toNumberOrNull,
  deleted_at: toNumberOrNull,
  duplicate_of: toNumberOrNull,
  thumbhash: toTextOrNull,
  callback_result: toTextOrNull,
  callback_reported_at: toNumberOrNull,
  callback_resends: toNumber,
  callback_resent_at: toNumberOrNull,
  failure_reported_at: toNumberOrNull,
  failure_report_claimed_at: toNumberOrNull,
};

const STEP_READERS = Object.fromEntries(
  STEP_NAMES.flatMap((step) => [
    [STEP_COLUMN[step], toText],
    [attemptsColumn(step), toNumber],
  ]),
) as ColumnReaders<ChecklistStepColumns>;

const CHECKLIST_READERS: ColumnReaders<ChecklistRecord> = {
  ...STEP_READERS,
  media_id: toNumber,
  state: toText,
  worker_id: toTextOrNull,
  claim_token: toTextOrNull,
  taken_over_from: toTextOrNull,
  lease_expires_at: toNumberOrNull,
  next_attempt_at: toNumber,
  last_error: toTextOrNull,
  last_error_class: toTextOrNull,
  failed_step: toTextOrNull,
  failed_at: toNumberOrNull,
  heal_count: toNumber,
  gave_up_at: toNumberOrNull,
  created_at: toNumber,
  updated_at: toNumber,
};

/** The media_files mapper: a whole row, or the columns a query selected. */
export function toMediaRecord<K extends keyof MediaRecord>(
  raw: RawRow<MediaRecord, K>,
): Pick<MediaRecord, K> {
  return readColumns(MEDIA_READERS, raw);
}

/** The processing_checklist mapper: a whole row, or the columns a query selected. */
export function toChecklistRecord<K extends keyof ChecklistRecord>(
  raw: RawRow<ChecklistRecord, K>,
): Pick<ChecklistRecord, K> {
  return readColumns(CHECKLIST_READERS, raw);
}

export async function findMedia(db: Db, id: number): Promise<MediaRecord | undefined> {
  const row = (await db('media_files').where({ id }).first()) as RawRow<MediaRecord> | undefined;
  return row && toMediaRecord(row);
}

export async function findChecklist(db: Db, mediaId: number): Promise<ChecklistRecord | undefined> {
  const row = (await db('processing_checklist').where({ media_id: mediaId }).first()) as
    RawRow<ChecklistRecord> | undefined;
  return row && toChecklistRecord(row);
}

export function stepState(checklist: ChecklistRecord, step: StepName): StepState {
  return { step, status: checklist[STEP_COLUMN[step]], attempts: checklist[attemptsColumn(step)] };
}

export function stepStates(checklist: ChecklistRecord): StepState[] {
  return STEP_NAMES.map((step) => stepState(checklist, step));
}
