/** What identifies a claim, and the timeline entries a fenced write records. */
import type { StepName } from './steps.js';

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
}
