/** Everything `show` prints about one item: the media row, its checklist, its timeline and its files. */
import { readAttemptCost, type AttemptCost } from './attempt-cost.js';
import type { Db } from './connect.js';
import {
  findChecklist,
  findMedia,
  stepStates,
  type ChecklistRecord,
  type MediaRecord,
  type StepState,
} from './records.js';
import {
  readColumns,
  toNumber,
  toNumberOrNull,
  toText,
  toTextOrNull,
  type ColumnReaders,
  type RawRow,
} from './row-values.js';
import { VARIANT_COLUMNS, toVariantRow, type RawVariantRow, type VariantRow } from './variant-rows.js';

export interface EventRecord {
  id: number;
  media_id: number;
  step: string | null;
  event: string;
  attempt: number | null;
  worker_id: string | null;
  error_class: string | null;
  message: string | null;
  /** What the attempt this event ended cost (parsed JSON); null on other events. */
  cost: AttemptCost | null;
  at: number;
}

const EVENT_READERS: ColumnReaders<EventRecord> = {
  id: toNumber,
  media_id: toNumber,
  step: toTextOrNull,
  event: toText,
  attempt: toNumberOrNull,
  worker_id: toTextOrNull,
  error_class: toTextOrNull,
  message: toTextOrNull,
  cost: readAttemptCost,
  at: toNumber,
};

/** The processing_events mapper. */
export function toEventRecord(raw: RawRow<EventRecord>): EventRecord {
  return readColumns(EVENT_READERS, raw);
}

export interface ItemDetail {
  media: MediaRecord;
  checklist: ChecklistRecord;
  steps: StepState[];
  events: EventRecord[];
  variants: VariantRow[];
}

export async function itemDetail(db: Db, id: number): Promise<ItemDetail | undefined> {
  const [media, checklist] = await Promise.all([findMedia(db, id), findChecklist(db, id)]);
  if (!media || !checklist) return undefined;
  const events = (await db('processing_events').where({ media_id: id }).orderBy('id')) as Array<
    RawRow<EventRecord>
  >;
  const variants = (await db('media_variants')
    .select(...VARIANT_COLUMNS)
    .where({ media_id: id })
    .orderBy(['size', 'format', 'bg'])) as RawVariantRow[];
  return {
    media,
    checklist,
    steps: stepStates(checklist),
    events: events.map(toEventRecord),
    variants: variants.map(toVariantRow),
  };
}
