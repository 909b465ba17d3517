/**
 * What a step and the whole item cost, as the item view shows them: the
 * attempt costs recorded on the timeline (attempt-cost.ts), summed. Failed,
 * retried and given-back attempts cost too, and so do earlier runs (a heal,
 * a requeue, a re-render): the timeline keeps them all. docs/step-cost.md.
 */
import { roundSeconds, type AttemptCost, type ProviderCall } from './attempt-cost.js';
import type { EventRecord } from './item-detail.js';

/** The times and bytes of one or more attempts. */
type CostTotals = Omit<AttemptCost, 'provider_calls'>;

export interface StepCost extends CostTotals {
  /** Recorded attempts summed here (an attempt lost with its worker has no record). */
  attempts: number;
  /** Every provider call of those attempts, in order, each with its attempt number. */
  provider_calls: Array<ProviderCall & { attempt: number | null }>;
  /** The last recorded attempt on its own, with the event that ended it. */
  last: AttemptCost & { attempt: number | null; event: string };
}

export interface ItemCost extends CostTotals {
  provider_call_count: number;
  /**
   * Present once a paid provider (openai, google) was called or its cache
   * read (docs/analysis-providers.md): what the calls cost at the configured
   * prices (null: none was priced), and what the cache hits did not spend.
   */
  provider_cost?: number | null;
  provider_cost_saved?: number;
  /** True when some of provider_cost is estimated (a service that reported no usage); absent otherwise. */
  provider_cost_estimated?: boolean;
}

/** Sums of money, rounded to 1e-9: prices per 1,000 units make long fractions. */
const roundMoney = (amount: number): number => Math.round(amount * 1e9) / 1e9;

function providerMoney(
  calls: readonly ProviderCall[],
): Pick<ItemCost, 'provider_cost' | 'provider_cost_saved' | 'provider_cost_estimated'> {
  if (!calls.some((call) => call.cost !== undefined || call.cache_hit)) return {};
  const priced = calls.filter((call) => typeof call.cost === 'number');
  return {
    provider_cost: priced.length ? roundMoney(priced.reduce((sum, call) => sum + call.cost!, 0)) : null,
    provider_cost_saved: roundMoney(calls.reduce((sum, call) => sum + (call.saved_cost ?? 0), 0)),
    ...(priced.some((call) => call.cost_estimated === true) ? { provider_cost_estimated: true } : {}),
  };
}

/**
 * Sums. CPU is exact or absent: one attempt without a CPU figure (it ran
 * beside another) makes the sum null rather than a number that looks whole.
 */
function totals(costs: readonly CostTotals[]): CostTotals {
  let cpu: number | null = 0;
  for (const cost of costs) cpu = cpu === null || cost.cpu_seconds === null ? null : cpu + cost.cpu_seconds;
  return {
    wall_seconds: roundSeconds(costs.reduce((sum, cost) => sum + cost.wall_seconds, 0)),
    cpu_seconds: cpu === null ? null : roundSeconds(cpu),
    bytes_read: costs.reduce((sum, cost) => sum + cost.bytes_read, 0),
    bytes_written: costs.reduce((sum, cost) => sum + cost.bytes_written, 0),
  };
}

/** One step's cost from its own events; null while no attempt of it has a recorded cost (never ran). */
export function stepCost(events: readonly EventRecord[]): StepCost | null {
  const ended = events.filter((event): event is EventRecord & { cost: AttemptCost } => event.cost !== null);
  const last = ended.at(-1);
  if (!last) return null;
  return {
    attempts: ended.length,
    ...totals(ended.map((event) => event.cost)),
    provider_calls: ended.flatMap((event) =>
      event.cost.provider_calls.map((call) => ({ ...call, attempt: event.attempt })),
    ),
    last: { ...last.cost, attempt: last.attempt, event: last.event },
  };
}

/** The item's totals over its steps; null when no step has a cost yet. */
export function itemCost(steps: ReadonlyArray<StepCost | null>): ItemCost | null {
  const costed = steps.filter((cost): cost is StepCost => cost !== null);
  if (costed.length === 0) return null;
  return {
    ...totals(costed),
    provider_call_count: costed.reduce((sum, cost) => sum + cost.provider_calls.length, 0),
    ...providerMoney(costed.flatMap((cost) => cost.provider_calls)),
  };
}
