/**
 * Retention policy: how long items live, by data_type; how long originals
 * stay in bulk/ after their variants exist; how fast test data goes. Items
 * get their expires_at when they are registered.
 */
import { ROLES, dataTypeOf, type DataType } from './media-roles.js';

export interface RetentionPolicy {
  /** Days an item of each data_type lives; absent means kept for good. */
  itemDays: Partial<Record<DataType, number>>;
  /** Days an original stays in bulk/ after the item completed (0: kept for good). */
  originalsDays: number;
  testDataHours: number;
}

const DAY_MS = 86_400_000;

export function expiresAtFor(
  policy: RetentionPolicy,
  dataType: string,
  isTestData: boolean,
  now = Date.now(),
): number | null {
  if (isTestData) return now + policy.testDataHours * 3_600_000;
  const days = policy.itemDays[dataType as DataType];
  return days === undefined ? null : now + days * DAY_MS;
}

/** Every data type a role is stored under (media-roles.ts), in the order of the roles. */
const DATA_TYPES: readonly DataType[] = [...new Set(ROLES.map(dataTypeOf))];

/** Parses RETENTION_DAYS, e.g. "event:730,product:365". */
export function parseRetentionDays(raw: string): Partial<Record<DataType, number>> {
  const days: Partial<Record<DataType, number>> = {};
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^([a-z]+):(\d+)$/.exec(part);
    if (!match || !DATA_TYPES.includes(match[1] as DataType) || Number(match[2]) < 1) {
      throw new Error(
        `must be a list like event:730,product:365 with data types ${DATA_TYPES.join(', ')} and whole days ≥ 1 (got "${raw}")`,
      );
    }
    days[match[1] as DataType] = Number(match[2]);
  }
  return days;
}
