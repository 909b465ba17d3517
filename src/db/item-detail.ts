/** Everything `show` prints about one item: the media row, its checklist, its timeline and its files. */
import type { Db } from './connect.js';
import {
  findChecklist,
  findMedia,
  stepStates,
  type ChecklistRecord,
  type MediaRecord,
  type StepState,
} from './records.js';
import { VARIANT_COLUMNS, toVariantRow, type RawVariantRow, type VariantRow } from './variant-rows.js';

export interface EventRecord {
  id: number;
  step: string | null;
  event: string;
  attempt: number | null;
  worker_id: string | null;
  error_class: string | null;
  message: string | null;
  at: number;
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
  const events = (await db('processing_events').where({ media_id: id }).orderBy('id')) as EventRecord[];
  const variants = (await db('media_variants')
    .select(...VARIANT_COLUMNS)
    .where({ media_id: id })
    .orderBy(['size', 'format', 'bg'])) as RawVariantRow[];
  return {
    media,
    checklist,
    steps: stepStates(checklist),
    events: events.map((event) => ({ ...event, id: Number(event.id), at: Number(event.at) })),
    variants: variants.map(toVariantRow),
  };
}
