/**
 * Settings that are each valid alone but nonsense together. loadConfig adds
 * these problems to the ones the option table found, so every mistake is
 * reported at once.
 */
import type { Config } from './config-type.js';

type Values = Partial<Record<keyof Config, unknown>>;

interface Rule {
  /** Both settings must be present (parsed) for the rule to apply. */
  low: keyof Config;
  high: keyof Config;
  message: (low: number, high: number) => string;
}

const RULES: readonly Rule[] = [
  {
    low: 'retryBaseMs',
    high: 'retryMaxMs',
    message: (base, max) =>
      `RETRY_BASE_MS (${base}) must not exceed RETRY_MAX_MS (${max}): every retry would wait RETRY_MAX_MS`,
  },
  {
    low: 'mainApiTimeoutMs',
    high: 'downloadDeadlineMs',
    message: (idle, total) =>
      `MAIN_API_TIMEOUT_MS (${idle}) must not exceed DOWNLOAD_DEADLINE_MS (${total}): the whole download must be allowed at least one idle timeout`,
  },
  {
    low: 'pollIntervalMs',
    high: 'idleMaxMs',
    message: (poll, idle) =>
      `POLL_INTERVAL_MS (${poll}) must not exceed IDLE_MAX_MS (${idle}): idle polling would never back off`,
  },
];

export function crossFieldProblems(values: Values): string[] {
  const problems: string[] = [];
  for (const rule of RULES) {
    const low = values[rule.low];
    const high = values[rule.high];
    if (typeof low === 'number' && typeof high === 'number' && low > high)
      problems.push(rule.message(low, high));
  }
  return problems;
}
