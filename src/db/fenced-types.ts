/** What identifies a claim, the timeline entries a fenced write records, and the refusal when the claim is gone. */
import { LeaseLostError } from '../errors.js';
import type { AttemptCost } from './attempt-cost.js';
import type { ChecklistRecord, MediaRecord } from './records.js';
import type { StepName } from './step-columns.js';

/** Columns of the media row a claim holder may set (its id and creation never change; updated_at is the write's). */
export type MediaChanges = Partial<Omit<MediaRecord, 'id' | 'created_at' | 'updated_at'>>;

/** Columns of the checklist row a claim holder may set. */
export type ChecklistChanges = Partial<Omit<ChecklistRecord, 'media_id' | 'created_at' | 'updated_at'>>;

export interface ClaimGuard {
  readonly mediaId: number;
  readonly claimToken: string;
  readonly workerId: string;
}

export interface ProcessingEvent {
  step?: StepName | null;
  event: string;
  attempt?: number | null;
  errorClass?: string | null;
  message?: string | null;
  /** What the attempt this event ends cost; only on the events that end one. */
  cost?: AttemptCost | null;
}

export function leaseLost(guard: ClaimGuard): LeaseLostError {
  return new LeaseLostError(
    `item ${guard.mediaId}: claim ${guard.claimToken} of ${guard.workerId} is no longer valid (lease expired and the item was taken over, or it was requeued); write refused`,
  );
}
