/**
 * The parameters of GET /api/media and /api/media/:id, validated one by one;
 * the first wrong one is named. Times are epoch milliseconds (as stored and
 * as answered); the cursor is base64url of the last id of the previous page.
 */
import type { MediaListFilters } from '../db/media-list.js';
import { ITEM_STATUSES, type ItemStatus } from '../db/item-view.js';
import { ROLES } from '../media-roles.js';
import type { FieldProblem } from './api-errors.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;

const ID = /^[1-9]\d{0,14}$/;
const EPOCH_MS = /^\d{1,15}$/;
const KNOWN = ['user_id', 'role', 'data_type', 'status', 'is_test_data', 'since', 'until', 'cursor', 'limit'];
const LIST_ROLES: readonly string[] = [...ROLES, 'unknown'];

export function parseMediaId(raw: string): number | FieldProblem {
  return ID.test(raw)
    ? Number(raw)
    : { field: 'id', message: `id must be a positive integer (got "${raw}")` };
}

export function encodeCursor(lastId: number): string {
  return Buffer.from(String(lastId), 'utf8').toString('base64url');
}

/** The id a cursor carries; undefined when it is not one encodeCursor made. */
export function decodeCursor(cursor: string): number | undefined {
  if (!/^[A-Za-z0-9_-]{1,24}$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!ID.test(text) || encodeCursor(Number(text)) !== cursor) return undefined;
  return Number(text);
}

type Query = Record<string, unknown>;
const bad = (field: string, message: string): FieldProblem => ({ field, message });

function oneValue(query: Query, field: string): string | undefined | FieldProblem {
  const value = query[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return bad(field, `${field} may be given once`);
  return value;
}

const isProblem = (value: unknown): value is FieldProblem =>
  typeof value === 'object' && value !== null && 'field' in value;

type Parsed = Omit<MediaListFilters, 'limit'> & { limit?: number };

/** One parameter's parser: its value for the filters, or the problem. */
const PARSERS: Record<string, (raw: string, field: string) => Partial<Parsed> | FieldProblem> = {
  user_id: (raw, field) =>
    ID.test(raw) ? { userId: Number(raw) } : bad(field, `user_id must be a positive integer (got "${raw}")`),
  role: (raw, field) =>
    LIST_ROLES.includes(raw)
      ? { role: raw }
      : bad(field, `role must be one of ${LIST_ROLES.join(', ')} (got "${raw}")`),
  data_type: (raw, field) =>
    /^[a-z][a-z0-9_-]{0,15}$/.test(raw)
      ? { dataType: raw }
      : bad(field, `data_type must be a storage folder name such as product or sites (got "${raw}")`),
  status: (raw, field) =>
    (ITEM_STATUSES as readonly string[]).includes(raw)
      ? { status: raw as ItemStatus }
      : bad(field, `status must be one of ${ITEM_STATUSES.join(', ')} (got "${raw}")`),
  is_test_data: (raw, field) =>
    raw === 'true' || raw === 'false'
      ? { isTestData: raw === 'true' }
      : bad(field, `is_test_data must be true or false (got "${raw}")`),
  since: (raw, field) =>
    EPOCH_MS.test(raw)
      ? { since: Number(raw) }
      : bad(field, `since must be epoch milliseconds (got "${raw}")`),
  until: (raw, field) =>
    EPOCH_MS.test(raw)
      ? { until: Number(raw) }
      : bad(field, `until must be epoch milliseconds (got "${raw}")`),
  cursor: (raw, field) => {
    const afterId = decodeCursor(raw);
    return afterId === undefined
      ? bad(field, 'cursor is not one this API gave (pass next_cursor back unchanged)')
      : { afterId };
  },
  limit: (raw, field) =>
    /^\d{1,3}$/.test(raw) && Number(raw) >= 1 && Number(raw) <= MAX_LIMIT
      ? { limit: Number(raw) }
      : bad(field, `limit must be an integer from 1 to ${MAX_LIMIT} (got "${raw}")`),
};

export function parseListQuery(query: Query): MediaListFilters | FieldProblem {
  const unknown = Object.keys(query).find((field) => !KNOWN.includes(field));
  if (unknown !== undefined) return bad(unknown, `unknown parameter ${unknown} (known: ${KNOWN.join(', ')})`);
  let filters: Parsed = {};
  for (const field of KNOWN) {
    const raw = oneValue(query, field);
    if (raw === undefined) continue;
    if (isProblem(raw)) return raw;
    const parsed = PARSERS[field]!(raw, field);
    if (isProblem(parsed)) return parsed;
    filters = { ...filters, ...parsed };
  }
  if (filters.since !== undefined && filters.until !== undefined && filters.until <= filters.since)
    return bad('until', 'until must be later than since');
  return { ...filters, limit: filters.limit ?? DEFAULT_LIMIT };
}
