/** The results of analyse and resize: variant rows, the analysis row, and the duplicate lookup that reuses them. */
import type { Db } from './connect.js';
import { fencedUpdate, type ClaimGuard } from './fenced-update.js';
import { toAnalysisRecord, type AnalysisRecord } from './analysis-rows.js';
import { toMediaRecord, type MediaRecord } from './records.js';
import type { RawRow } from './row-values.js';
import { VARIANT_COLUMNS, toVariantRow, type RawVariantRow, type VariantRow } from './variant-rows.js';

export type { VariantRow } from './variant-rows.js';
export type { AnalysisRecord } from './analysis-rows.js';

/** Replaces the item's variant rows under the claim (a re-run converges to the same set). */
export async function saveVariants(
  db: Db,
  guard: ClaimGuard,
  variants: readonly VariantRow[],
): Promise<void> {
  const now = Date.now();
  await fencedUpdate(db, guard, {
    checklist: {},
    also: async (trx) => {
      await trx('media_variants').where({ media_id: guard.mediaId }).delete();
      if (variants.length > 0)
        await trx('media_variants').insert(
          variants.map((v) => ({ ...v, media_id: guard.mediaId, created_at: now })),
        );
    },
  });
}

export async function listVariants(db: Db, mediaId: number): Promise<VariantRow[]> {
  const rows = (await db('media_variants')
    .select(...VARIANT_COLUMNS)
    .where({ media_id: mediaId })) as RawVariantRow[];
  return rows.map(toVariantRow);
}

/** The analysis row as stored (JSON columns as text): what saveAnalysis writes and a duplicate copies. */
export type AnalysisRow = Record<string, unknown>;

export async function saveAnalysis(db: Db, guard: ClaimGuard, row: AnalysisRow): Promise<void> {
  const now = Date.now();
  await fencedUpdate(db, guard, {
    checklist: {},
    also: async (trx) => {
      await trx('media_ai_analysis').where({ media_id: guard.mediaId }).delete();
      await trx('media_ai_analysis').insert({
        ...row,
        media_id: guard.mediaId,
        created_at: now,
        updated_at: now,
      });
    },
  });
}

/**
 * Gives the claimed item a copy of another item's analysis (identical bytes),
 * under the claim. False when that item has no analysis to copy.
 */
export async function copyAnalysis(db: Db, guard: ClaimGuard, fromMediaId: number): Promise<boolean> {
  const source = await findAnalysis(db, fromMediaId);
  if (!source) return false;
  const { media_id: _id, created_at: _created, updated_at: _updated, ...copy } = source;
  await saveAnalysis(db, guard, copy);
  return true;
}

/** The stored row, unconverted (JSON columns as text; see findAnalysisRecord to read it typed). */
export async function findAnalysis(db: Db, mediaId: number): Promise<AnalysisRow | undefined> {
  return (await db('media_ai_analysis').where({ media_id: mediaId }).first()) as AnalysisRow | undefined;
}

/** The item's analysis, typed: numbers, booleans and parsed JSON columns. */
export async function findAnalysisRecord(db: Db, mediaId: number): Promise<AnalysisRecord | undefined> {
  const row = (await db('media_ai_analysis').where({ media_id: mediaId }).first()) as
    RawRow<AnalysisRecord> | undefined;
  return row && toAnalysisRecord(row);
}

/** An earlier completed item with the same bytes and role, whose outputs this upload can reuse. */
export async function findDuplicateSource(db: Db, media: MediaRecord): Promise<MediaRecord | undefined> {
  if (!media.sha256) return undefined;
  const row = (await db('media_files')
    .where({ sha256: media.sha256, role: media.role, status: 'completed' })
    .whereNot({ id: media.id })
    .whereNull('deleted_at')
    .orderBy('id')
    .first()) as RawRow<MediaRecord> | undefined;
  return row && toMediaRecord(row);
}
