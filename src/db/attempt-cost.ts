/**
 * What one attempt at a step cost, in the shape it is stored in
 * (processing_events.cost, JSON on the event that ended the attempt) and
 * shown in (the item view, docs/step-cost.md). Snake case, like MediaChanges:
 * it is a stored shape, written as the steps and the runner hand it over.
 */
import { parseJson } from './row-values.js';

/** One call to an analysis provider during the attempt. */
export interface ProviderCall {
  provider: string;
  /** skipped: a paid provider not called (paused, or over its daily budget). */
  outcome: 'ok' | 'failed' | 'skipped';
  duration_ms: number;
  /** What the provider reported about itself: version, fields reported, its own usage figures, or the error. */
  reported: Record<string, unknown>;
  /** Paid providers: what the call cost at the configured prices (0 for a cache hit); null: no price configured. */
  cost?: number | null;
  /** Paid providers: the service reported no usage, so `cost` is an estimate (docs/analysis-providers.md). */
  cost_estimated?: boolean;
  /** Paid providers: the answer came from the cache (provider_cache), and what it had cost then. */
  cache_hit?: boolean;
  saved_cost?: number | null;
}

export interface AttemptCost {
  wall_seconds: number;
  /** Null when another attempt ran in the same process meanwhile: process CPU cannot be split between them. */
  cpu_seconds: number | null;
  bytes_read: number;
  bytes_written: number;
  provider_calls: ProviderCall[];
}

/** What a step itself knows of its cost (the runner measures the times). */
export type StepCostReport = Partial<Pick<AttemptCost, 'bytes_read' | 'bytes_written' | 'provider_calls'>>;

/** Seconds to the microsecond: enough for a skipped step, short in JSON. */
export const roundSeconds = (seconds: number): number => Math.round(seconds * 1e6) / 1e6;

export function attemptCost(
  times: Pick<AttemptCost, 'wall_seconds' | 'cpu_seconds'>,
  report: StepCostReport = {},
): AttemptCost {
  return {
    wall_seconds: roundSeconds(times.wall_seconds),
    cpu_seconds: times.cpu_seconds === null ? null : roundSeconds(times.cpu_seconds),
    bytes_read: report.bytes_read ?? 0,
    bytes_written: report.bytes_written ?? 0,
    provider_calls: report.provider_calls ?? [],
  };
}

/** The cost column's value for an event. */
export function costColumn(cost: AttemptCost | null | undefined): string | null {
  return cost ? JSON.stringify(cost) : null;
}

const isCount = (value: unknown): value is number => typeof value === 'number' && value >= 0;

/**
 * The cost column read back; null when there is none or it is not a cost
 * (a hand-edited row must not break `show`).
 */
export function readAttemptCost(value: unknown): AttemptCost | null {
  const parsed = parseJson(value) as Partial<AttemptCost> | undefined;
  if (typeof parsed !== 'object' || parsed === null || !isCount(parsed.wall_seconds)) return null;
  return {
    wall_seconds: parsed.wall_seconds,
    cpu_seconds: isCount(parsed.cpu_seconds) ? parsed.cpu_seconds : null,
    bytes_read: isCount(parsed.bytes_read) ? parsed.bytes_read : 0,
    bytes_written: isCount(parsed.bytes_written) ? parsed.bytes_written : 0,
    provider_calls: Array.isArray(parsed.provider_calls) ? parsed.provider_calls : [],
  };
}
