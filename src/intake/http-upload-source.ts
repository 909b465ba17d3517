/**
 * Opens an HTTP upload (POST /api/media) for the retrieve step: its bytes
 * were stored under incoming/ before the upload was answered, so they are
 * read back from the store; their end is known (the store has the whole
 * object). cleanup --orphans removes the incoming object once retrieve has
 * stored the original in bulk/, so a retrieve run again later (requeue
 * --step retrieve) reads the bulk/ original instead. Only when neither is
 * stored any more (the original past ORIGINALS_RETENTION_DAYS) are the
 * bytes gone.
 */
import { GoneError } from '../errors.js';
import type { MediaRecord } from '../db/records.js';
import type { OpenedSource } from '../steps/retrieve.js';
import type { ObjectStore } from '../storage/object-store.js';

export function createHttpUploadSourceOpener(storage: ObjectStore) {
  return async (media: MediaRecord): Promise<OpenedSource> => {
    const opened =
      (await storage.open(media.source_path)) ??
      (media.bulk_path === null ? undefined : await storage.open(media.bulk_path));
    if (!opened)
      throw new GoneError(
        `the uploaded bytes are no longer stored: neither ${media.source_path} nor an original in bulk/ is in ${storage.description}`,
      );
    return { stream: opened.stream, endKnown: true };
  };
}
