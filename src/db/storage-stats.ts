/**
 * What storage holds, as recorded in the database: files and bytes by area
 * (bulk: originals, library: variants) and data type, reuse of identical
 * uploads, and what AVIF and WebP save against JPEG.
 */
import type { Db } from './connect.js';
import { toCount } from './row-values.js';

export interface AreaUsage {
  files: number;
  bytes: number;
}

export interface StorageStats {
  byArea: { bulk: AreaUsage; library: AreaUsage };
  byDataType: Record<string, { bulk: AreaUsage; library: AreaUsage }>;
  dedup: { hits: number; bytesSaved: number };
  bytesByFormat: Record<string, number>;
  /** JPEG bytes minus this format's bytes, over the bg=original variants (every size has all three). */
  savedVsJpeg: { avif: number; webp: number };
}

type Row = { data_type: string; files: unknown; bytes: unknown };

export async function storageStats(db: Db): Promise<StorageStats> {
  const bulk = (await db('media_files')
    .select('data_type')
    .count({ files: '*' })
    .sum({ bytes: 'file_size' })
    .whereNotNull('bulk_path')
    .whereNot({ status: 'deleted' })
    .groupBy('data_type')) as Row[];
  const library = (await db('media_variants as v')
    .join('media_files as m', 'm.id', 'v.media_id')
    .select('m.data_type')
    .count({ files: '*' })
    .sum({ bytes: 'v.bytes' })
    .groupBy('m.data_type')) as Row[];
  const byDataType: StorageStats['byDataType'] = {};
  const entry = (dataType: string) =>
    (byDataType[dataType] ??= { bulk: { files: 0, bytes: 0 }, library: { files: 0, bytes: 0 } });
  for (const row of bulk)
    entry(row.data_type).bulk = { files: toCount(row.files), bytes: toCount(row.bytes) };
  for (const row of library)
    entry(row.data_type).library = { files: toCount(row.files), bytes: toCount(row.bytes) };
  const total = (area: 'bulk' | 'library') =>
    Object.values(byDataType).reduce(
      (sum, usage) => ({ files: sum.files + usage[area].files, bytes: sum.bytes + usage[area].bytes }),
      { files: 0, bytes: 0 },
    );

  const formats = (await db('media_variants')
    .select('format')
    .sum({ bytes: 'bytes' })
    .where({ bg: 'original' })
    .groupBy('format')) as Array<{ format: string; bytes: unknown }>;
  const bytesByFormat = Object.fromEntries(formats.map((f) => [f.format, toCount(f.bytes)]));
  const dedup = (await db('media_variants as v')
    .join('media_files as m', 'm.id', 'v.media_id')
    .whereNotNull('m.duplicate_of')
    .sum({ bytes: 'v.bytes' })
    .countDistinct({ hits: 'm.id' })
    .first()) as { bytes: unknown; hits: unknown } | undefined;
  const jpeg = bytesByFormat.jpeg ?? 0;
  return {
    byArea: { bulk: total('bulk'), library: total('library') },
    byDataType,
    dedup: { hits: toCount(dedup?.hits), bytesSaved: toCount(dedup?.bytes) },
    bytesByFormat,
    savedVsJpeg: { avif: jpeg - (bytesByFormat.avif ?? 0), webp: jpeg - (bytesByFormat.webp ?? 0) },
  };
}
