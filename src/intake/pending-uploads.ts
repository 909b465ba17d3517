/**
 * Parsing GET /api/media/pending/all (CONTRACT.md §1). Missing or null
 * optional fields are fine and unknown fields are ignored. An entry without a
 * usable id is skipped (counted, a few kept as examples for the log): it never
 * stops the rest of the list. An entry with a usable id but a bad image_path
 * (missing, an absolute URL, outside /temp_images/) is kept as it is: it is
 * imported and then fails at retrieval as INVALID_INPUT with one cleanup
 * call, so that it leaves the pending list instead of being listed for ever.
 */
export interface PendingUpload {
  id: number;
  userId: number | undefined;
  /** As listed (at most 1024 characters; empty when missing): the retrieve step validates it. */
  imagePath: string;
  originalName: string | undefined;
  mimeType: string | undefined;
}

export interface SkippedEntries {
  count: number;
  /** The first few, for the log. */
  examples: Array<{ entry: string; reason: string }>;
}

export interface PendingList {
  uploads: PendingUpload[];
  skipped: SkippedEntries;
}

const EXAMPLES = 3;

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
  return {
    id,
    userId: positiveInteger(record.user_id),
    imagePath: typeof record.image_path === 'string' ? record.image_path.slice(0, 1024) : '',
    originalName: optionalString(record.original_name),
    mimeType: optionalString(record.mime_type),
  };
}

export function parsePendingList(body: unknown): PendingList {
  const images = (body as { images?: unknown } | null)?.images;
  if (!Array.isArray(images)) throw new Error('the main API pending list has no "images" array');
  const uploads: PendingUpload[] = [];
  const skipped: SkippedEntries = { count: 0, examples: [] };
  for (const entry of images) {
    const parsed = parseEntry(entry);
    if (typeof parsed !== 'string') {
      uploads.push(parsed);
      continue;
    }
    skipped.count++;
    if (skipped.examples.length < EXAMPLES)
      skipped.examples.push({ entry: JSON.stringify(entry)?.slice(0, 200) ?? String(entry), reason: parsed });
  }
  return { uploads, skipped };
}
