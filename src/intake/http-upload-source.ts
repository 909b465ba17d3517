/**
 * Opens an HTTP upload (POST /api/media) for the retrieve step: its bytes
 * were stored under incoming/ before the upload was answered, so they are
 * read back from the store. Their end is known (the store has the whole
 * object). An incoming object is removed by cleanup only after retrieve
 * stored the original in bulk/, so a missing one means a retrieve re-run
 * after that (requeue --step retrieve): the original is in bulk/ no longer
 * either, or it would not have been re-run.
 */
import { GoneError } from '../errors.js';
import type { MediaRecord } from '../db/records.js';
import type { OpenedSource } from '../steps/retrieve.js';
import type { ObjectStore } from '../storage/object-store.js';

export function createHttpUploadSourceOpener(storage: ObjectStore) {
  return async (media: MediaRecord): Promise<OpenedSource> => {
    const opened = await storage.open(media.source_path);
    if (!opened)
      throw new GoneError(
        `the uploaded bytes (${media.source_path} in ${storage.description}) are no longer stored: removed by cleanup after an earlier retrieve?`,
      );
    return { stream: opened.stream, endKnown: true };
  };
}
