/**
 * The item as the HTTP API (`GET /api/media/:id`) and `show --json` (its `api`
 * field) both give it: one function, so the two can never disagree.
 */
import type { Db } from './connect.js';
import { itemDetail, type EventRecord, type ItemDetail } from './item-detail.js';
import type { ChecklistRecord, MediaStatus, StepState } from './records.js';
import { STEP_NAMES, type StepName, type StepStatus } from './step-columns.js';
import { itemCost, stepCost, type ItemCost, type StepCost } from './step-cost.js';
import type { VariantRow } from './variant-rows.js';

/** What the API calls an item's state; the in-progress names come from the checklist (itemStatus). */
export const ITEM_STATUSES = [
  'pending',
  'retrieving',
  'analysing',
  'resizing',
  'reporting',
  'completed',
  'failed',
  'deleted',
] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

/** The name an item has while the step is its first one not completed or skipped. */
export const IN_PROGRESS_STATUS = {
  retrieve: 'retrieving',
  analyse: 'analysing',
  resize: 'resizing',
  callback: 'reporting',
} as const satisfies Record<StepName, ItemStatus>;

export interface ItemLinks {
  self: string;
  serve: string;
  analysis: string;
}

export interface StepView {
  name: StepName;
  status: StepStatus;
  attempts: number;
  started_at: number | null;
  finished_at: number | null;
  duration_ms: number | null;
  /** Every recorded attempt summed, and the last alone (docs/step-cost.md); null: never ran. */
  cost: StepCost | null;
}

/** A variant as the API shows it: the row without where it is stored, with the URL that serves it. */
export type VariantView = Omit<VariantRow, 'path' | 'etag'> & { url: string };

export interface ItemView {
  media_id: number;
  status: ItemStatus;
  failure: { step: string | null; error_class: string | null; message: string | null } | null;
  steps: StepView[];
  variants: VariantView[];
  links: ItemLinks;
  created_at: number;
  completed_at: number | null;
  /** The steps' costs summed; null while none has run. */
  cost: ItemCost | null;
}

const isDone = (status: StepStatus) => status === 'completed' || status === 'skipped';

/**
 * The rule, in order:
 * 1. `deleted`: the media row or the checklist says deleted;
 * 2. `completed`: the checklist is completed, or it failed while the item is
 *    served (a failed callback or re-render: `failure` says which);
 * 3. `failed`: the checklist failed and the item is not served;
 * 4. the checklist is queued (claimed, or waiting for its turn or a retry):
 *    `pending` while nothing has started since it was registered, healed or
 *    requeued (the media row is still `pending`), else the name of its first
 *    step neither completed nor skipped: retrieving, analysing, resizing,
 *    reporting (a served item being re-rendered or re-reported included).
 */
export function itemStatus(
  mediaStatus: MediaStatus,
  checklist: Pick<ChecklistRecord, 'state'>,
  steps: readonly Pick<StepState, 'step' | 'status'>[],
): ItemStatus {
  if (mediaStatus === 'deleted' || checklist.state === 'deleted') return 'deleted';
  if (checklist.state === 'completed') return 'completed';
  if (checklist.state === 'failed') return mediaStatus === 'completed' ? 'completed' : 'failed';
  const open = steps.find((s) => !isDone(s.status));
  if (!open) return 'completed';
  if (mediaStatus === 'pending') return 'pending';
  return IN_PROGRESS_STATUS[open.step];
}

/** A variant's root-relative serve url (the item view's and the manifest's). */
export function variantUrl(mediaId: number, variant: { size: string; format: string; bg: string }): string {
  return `/serve/${mediaId}?size=${variant.size}&format=${variant.format}&bg=${variant.bg}`;
}

export function itemLinks(id: number): ItemLinks {
  return { self: `/api/media/${id}`, serve: `/serve/${id}`, analysis: `/api/media/analysis/${id}` };
}

/**
 * A step's times from the timeline: started_at is its last `started` event;
 * finished_at the `completed`, `skipped` or `failed` event after it, only
 * while the checklist records the step so (a step put back to pending has
 * none). duration_ms is the difference when both are known.
 */
function stepView(state: StepState, events: readonly EventRecord[]): StepView {
  const own = events.filter((e) => e.step === state.step);
  const lastStart = own.findLast((e) => e.event === 'started');
  const finished =
    state.status === 'pending'
      ? undefined
      : own.findLast((e) => e.event === state.status && (!lastStart || e.id > lastStart.id));
  const startedAt = state.attempts > 0 || finished ? (lastStart?.at ?? null) : null;
  const finishedAt = finished?.at ?? null;
  return {
    name: state.step,
    status: state.status,
    attempts: state.attempts,
    started_at: startedAt,
    finished_at: finishedAt,
    duration_ms: startedAt !== null && finishedAt !== null ? finishedAt - startedAt : null,
    cost: stepCost(own),
  };
}

export function itemView({ media, checklist, steps, events, variants }: ItemDetail): ItemView {
  const failed = checklist.state === 'failed';
  const stepViews = STEP_NAMES.map((name) =>
    stepView(
      steps.find((s) => s.step === name)!,
      events,
    ),
  );
  return {
    media_id: media.id,
    status: itemStatus(media.status, checklist, steps),
    failure: failed
      ? {
          step: checklist.failed_step,
          error_class: checklist.last_error_class,
          message: checklist.last_error,
        }
      : null,
    steps: stepViews,
    variants: variants.map(({ size, format, bg, width, height, bytes }) => ({
      size,
      format,
      bg,
      width,
      height,
      bytes,
      url: variantUrl(media.id, { size, format, bg }),
    })),
    links: itemLinks(media.id),
    created_at: media.created_at,
    completed_at: media.completed_at,
    cost: itemCost(stepViews.map((step) => step.cost)),
  };
}

/** The view of one item, or undefined when there is no such item. */
export async function findItemView(db: Db, id: number): Promise<ItemView | undefined> {
  const detail = await itemDetail(db, id);
  return detail && itemView(detail);
}
