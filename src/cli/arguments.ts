/** Parsers for CLI arguments: each one names the argument it refuses (exit code 2). */
import { parseDuration } from '../admin/durations.js';
import { UsageError } from '../errors.js';
import { parseRole, ROLES, type Role } from '../media-roles.js';
import { parseStepName, STEP_NAMES, type StepName } from '../db/step-columns.js';

export function parseIdArgument(raw: string, name = 'id'): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw new UsageError(`${name} must be a positive integer media id (got "${raw}")`);
  }
  return Number(raw);
}

export function parseCountArgument(raw: string, name: string, min = 1): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || !Number.isSafeInteger(Number(raw))) {
    throw new UsageError(`${name} must be an integer ≥ ${min} (got "${raw}")`);
  }
  return Number(raw);
}

export function parseRoleArgument(raw: string): Role {
  const role = parseRole(raw);
  if (!role) throw new UsageError(`--role must be one of ${ROLES.join(', ')} (got "${raw}")`);
  return role;
}

export function parseStepArgument(raw: string): StepName {
  const step = parseStepName(raw);
  if (!step) throw new UsageError(`--step must be one of ${STEP_NAMES.join(', ')} (got "${raw}")`);
  return step;
}

/** "90s", "15m", "1h", "2d" → milliseconds. */
export function parseDurationArgument(raw: string, name: string): number {
  const ms = parseDuration(raw);
  if (ms === undefined)
    throw new UsageError(`${name} must be a duration like 90s, 15m, 1h or 2d (got "${raw}")`);
  return ms;
}
