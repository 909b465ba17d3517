/**
 * Parsing GET /api/media/pending/all (CONTRACT.md §1). Missing or null
 * optional fields are fine and unknown fields are ignored; an entry without a
 * usable id or image_path, or with a path outside /temp_images/, is skipped
 * with its reason — it never stops the rest of the list.
 */
import { TEMP_PREFIX } from './temp-path.js';

export interface PendingUpload {
  id: number;
  userId: number | undefined;
  imagePath: string;
  originalName: string | undefined;
  mimeType: string | undefined;
}

export interface PendingList {
  uploads: PendingUpload[];
  skipped: Array<{ entry: string; reason: string }>;
  /** The list is complete (total ≤ images.length): absence from it means the upload is gone. */
  complete: boolean;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.slice(0, 255) : undefined;
}

function positiveInteger(value: unknown): number | undefined {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isSafeInteger(number) && number > 0 ? number : undefined;
}

function parseEntry(entry: unknown): PendingUpload | string {
  if (typeof entry !== 'object' || entry === null) return 'not an object';
  const record = entry as Record<string, unknown>;
  const id = positiveInteger(record.id);
  if (id === undefined) return 'no valid id';
  const imagePath = record.image_path;
  if (typeof imagePath !== 'string' || imagePath === '') return `upload ${id}: no image_path`;
  if (!imagePath.startsWith(TEMP_PREFIX))
    return `upload ${id}: image_path outside ${TEMP_PREFIX} (${JSON.stringify(imagePath.slice(0, 120))})`;
  return {
    id,
    userId: positiveInteger(record.user_id),
    imagePath,
    originalName: optionalString(record.original_name),
    mimeType: optionalString(record.mime_type),
  };
}

export function parsePendingList(body: unknown): PendingList {
  const images = (body as { images?: unknown } | null)?.images;
  if (!Array.isArray(images)) throw new Error('the main API pending list has no "images" array');
  const uploads: PendingUpload[] = [];
  const skipped: PendingList['skipped'] = [];
  for (const entry of images) {
    const parsed = parseEntry(entry);
    if (typeof parsed === 'string')
      skipped.push({ entry: JSON.stringify(entry).slice(0, 200), reason: parsed });
    else uploads.push(parsed);
  }
  const total = (body as { total?: unknown }).total;
  return { uploads, skipped, complete: typeof total !== 'number' || total <= images.length };
}
