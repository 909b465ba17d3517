/**
 * The media listing of `GET /api/media`: filtered, keyset-paginated by id
 * ascending (`id > after`), each row with its API status (item-view.ts).
 * The status filter is the same rule as itemStatus, written as SQL; the
 * indexes it and the other filters use are in migration media_list_indexes.
 */
import type { Knex } from 'knex';
import type { Db } from './connect.js';
import { IN_PROGRESS_STATUS, itemLinks, itemStatus, type ItemLinks, type ItemStatus } from './item-view.js';
import { toChecklistRecord, toMediaRecord, type ChecklistRecord, type MediaRecord } from './records.js';
import type { RawRow } from './row-values.js';
import { STEP_COLUMN, STEP_NAMES, type StepName, type StepStatusColumn } from './step-columns.js';

export interface MediaListFilters {
  userId?: number;
  role?: string;
  dataType?: string;
  status?: ItemStatus;
  isTestData?: boolean;
  /** created_at >= since (epoch ms). */
  since?: number;
  /** created_at < until (epoch ms). */
  until?: number;
  /** Only ids above this one (the cursor). */
  afterId?: number;
  /**
   * The dashboard's filters (GET /api/media does not offer them). id and
   * main_api_id are a primary-key and a unique-index lookup. No index leads
   * with failed_step or last_error_class: the plan reads media in id order
   * and joins the checklist by its primary key, stopping after a page, so a
   * rare match costs a pass over the table; acceptable for an operator's
   * page, not a hot path (with status failed, checklist_heal_idx serves
   * state and error class together).
   */
  mediaId?: number;
  mainApiId?: number;
  /** The step the checklist failed at (processing_checklist.failed_step). */
  failedStep?: StepName;
  /** The last error's class (INVALID_INPUT, TRANSIENT, …): of a failure, or of a retry still to come. */
  errorClass?: string;
  /**
   * Only ids below this one (a previous page): read descending from it by the
   * same indexes, answered ascending. Not with afterId.
   */
  beforeId?: number;
  limit: number;
}

export interface MediaListItem {
  media_id: number;
  user_id: number;
  role: string;
  data_type: string;
  status: ItemStatus;
  is_test_data: boolean;
  created_at: number;
  completed_at: number | null;
  links: ItemLinks;
}

export interface MediaListPage {
  items: MediaListItem[];
  /** The last id of this page when there may be more, else null. */
  lastId: number | null;
  /** With beforeId: the first id of this page when there may be earlier ones, else null. */
  firstId?: number | null;
}

const MEDIA_COLUMNS = [
  'id',
  'user_id',
  'role',
  'data_type',
  'status',
  'is_test_data',
  'created_at',
  'completed_at',
] as const;
const STEP_COLUMNS = STEP_NAMES.map((step) => STEP_COLUMN[step]);

type Where = Knex.QueryBuilder;
const DONE = ['completed', 'skipped'];

/** Every step done: a queued checklist with nothing left reads as completed (itemStatus). */
function allStepsDone(q: Where): void {
  for (const column of STEP_COLUMNS) void q.whereIn(`c.${column}`, DONE);
}

/** The first open step is `step`: the ones before it done, it not. */
function openStepIs(q: Where, step: StepName): void {
  const index = STEP_NAMES.indexOf(step);
  for (const before of STEP_NAMES.slice(0, index)) void q.whereIn(`c.${STEP_COLUMN[before]}`, DONE);
  void q.whereNotIn(`c.${STEP_COLUMN[step]}`, DONE);
}

/** itemStatus as a WHERE clause (the test checks each status filter against itemStatus). */
function whereStatus(q: Where, status: ItemStatus): void {
  if (status === 'deleted') {
    void q.where((w) => void w.where('m.status', 'deleted').orWhere('c.state', 'deleted'));
    return;
  }
  void q.whereNot('m.status', 'deleted').whereNot('c.state', 'deleted');
  if (status === 'failed') {
    void q.where('c.state', 'failed').whereNot('m.status', 'completed');
  } else if (status === 'completed') {
    void q.where((w) => {
      void w
        .where('c.state', 'completed')
        .orWhere((f) => void f.where('c.state', 'failed').where('m.status', 'completed'))
        .orWhere((d) => {
          void d.where('c.state', 'queued');
          allStepsDone(d);
        });
    });
  } else {
    void q.where('c.state', 'queued').whereNot((d) => allStepsDone(d));
    if (status === 'pending') void q.where('m.status', 'pending');
    else {
      void q.whereNot('m.status', 'pending');
      const step = STEP_NAMES.find((name) => IN_PROGRESS_STATUS[name] === status)!;
      openStepIs(q, step);
    }
  }
}

/** The query listMedia runs (exported for the EXPLAIN test, which must run this very text). */
export function mediaListQuery(db: Db, filters: MediaListFilters): Knex.QueryBuilder {
  const q = db('media_files as m')
    .join('processing_checklist as c', 'c.media_id', 'm.id')
    .select(
      ...MEDIA_COLUMNS.map((column) => `m.${column}`),
      'c.state',
      ...STEP_COLUMNS.map((column) => `c.${column}`),
    )
    .orderBy('m.id', filters.beforeId === undefined ? 'asc' : 'desc')
    .limit(filters.limit + 1);
  if (filters.afterId !== undefined) void q.where('m.id', '>', filters.afterId);
  if (filters.beforeId !== undefined) void q.where('m.id', '<', filters.beforeId);
  if (filters.mediaId !== undefined) void q.where('m.id', filters.mediaId);
  if (filters.mainApiId !== undefined) void q.where('m.main_api_id', filters.mainApiId);
  if (filters.failedStep !== undefined) void q.where('c.failed_step', filters.failedStep);
  if (filters.errorClass !== undefined) void q.where('c.last_error_class', filters.errorClass);
  if (filters.userId !== undefined) void q.where('m.user_id', filters.userId);
  if (filters.role !== undefined) void q.where('m.role', filters.role);
  if (filters.dataType !== undefined) void q.where('m.data_type', filters.dataType);
  if (filters.isTestData !== undefined) void q.where('m.is_test_data', filters.isTestData ? 1 : 0);
  if (filters.since !== undefined) void q.where('m.created_at', '>=', filters.since);
  if (filters.until !== undefined) void q.where('m.created_at', '<', filters.until);
  if (filters.status !== undefined) whereStatus(q, filters.status);
  return q;
}

type MediaColumn = (typeof MEDIA_COLUMNS)[number];
type ListRow = RawRow<MediaRecord, MediaColumn> & RawRow<ChecklistRecord, 'state' | StepStatusColumn>;

export async function listMedia(db: Db, filters: MediaListFilters): Promise<MediaListPage> {
  const rows = (await mediaListQuery(db, filters)) as ListRow[];
  const backwards = filters.beforeId !== undefined;
  const page = backwards ? rows.slice(0, filters.limit).reverse() : rows.slice(0, filters.limit);
  const items = page.map((raw): MediaListItem => {
    const media = toMediaRecord<MediaColumn>(raw);
    const checklist = toChecklistRecord<'state' | StepStatusColumn>(raw);
    const steps = STEP_NAMES.map((step) => ({ step, status: checklist[STEP_COLUMN[step]] }));
    return {
      media_id: media.id,
      user_id: media.user_id,
      role: media.role,
      data_type: media.data_type,
      status: itemStatus(media.status, checklist, steps),
      is_test_data: media.is_test_data,
      created_at: media.created_at,
      completed_at: media.completed_at,
      links: itemLinks(media.id),
    };
  });
  const more = rows.length > filters.limit;
  if (backwards)
    // Read back from beforeId: the ids after this page exist (the page it came from).
    return { items, lastId: items.at(-1)?.media_id ?? null, firstId: more ? items[0]!.media_id : null };
  return { items, lastId: more ? (items.at(-1)?.media_id ?? null) : null };
}
