/**
 * The admin audit: who did what, with which parameters, when, and how it
 * ended. Rows are only ever inserted; listed newest first with keyset
 * pagination on the id (stable while new rows arrive).
 */
import type { Db } from './connect.js';
import {
  parseJson,
  readColumns,
  toNumber,
  toText,
  toTextOrNull,
  type ColumnReaders,
  type RawRow,
} from './row-values.js';

export const AUDIT_OUTCOMES = ['ok', 'refused', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export interface AuditEntry {
  actor: string;
  action: string;
  parameters: Record<string, unknown>;
  outcome: AuditOutcome;
  /** A summary (counts) for ok, the reason for refused, the error message for failed. */
  detail: string | null;
}

export interface AuditRecord extends AuditEntry {
  id: number;
  at: number;
}

interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  parameters: Record<string, unknown>;
  outcome: AuditOutcome;
  detail: string | null;
}

const READERS: ColumnReaders<AuditRow> = {
  id: toNumber,
  at: toNumber,
  actor: toText,
  action: toText,
  parameters: (value) => (parseJson(value) as Record<string, unknown> | undefined) ?? {},
  outcome: toText<AuditOutcome>,
  detail: toTextOrNull,
};

/** Longest detail kept: a failure message or a summary, never a whole report. */
const MAX_DETAIL_CHARS = 2000;

export async function recordAudit(db: Db, entry: AuditEntry, at = Date.now()): Promise<number> {
  const [id] = (await db('admin_audit').insert(
    {
      at,
      actor: entry.actor,
      action: entry.action,
      parameters: JSON.stringify(entry.parameters),
      outcome: entry.outcome,
      detail: entry.detail === null ? null : entry.detail.slice(0, MAX_DETAIL_CHARS),
    },
    ['id'],
  )) as Array<number | { id: unknown }>;
  return typeof id === 'object' ? toNumber(id.id) : toNumber(id);
}

export interface AuditFilters {
  actor?: string;
  action?: string;
  /** Only rows older than this id (the previous page's last id). */
  beforeId?: number;
  limit: number;
}

export interface AuditPage {
  entries: AuditRecord[];
  /** The last id of this page when more may follow, else null. */
  lastId: number | null;
}

export async function listAudit(db: Db, filters: AuditFilters): Promise<AuditPage> {
  const query = db('admin_audit')
    .select('*')
    .orderBy('id', 'desc')
    .limit(filters.limit + 1);
  if (filters.actor !== undefined) query.where({ actor: filters.actor });
  if (filters.action !== undefined) query.where({ action: filters.action });
  if (filters.beforeId !== undefined) query.where('id', '<', filters.beforeId);
  const rows = ((await query) as Array<RawRow<AuditRow>>).map((raw) => readColumns(READERS, raw));
  const entries = rows.slice(0, filters.limit);
  return { entries, lastId: rows.length > filters.limit ? entries[entries.length - 1]!.id : null };
}
