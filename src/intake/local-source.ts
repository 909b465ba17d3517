/** Opens a locally ingested file for the retrieve step. */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { GoneError, InvalidInputError } from '../errors.js';
import type { MediaRecord } from '../db/records.js';
import type { OpenedSource } from '../steps/retrieve.js';

export function createLocalSourceOpener(maxUploadBytes: number) {
  return async (media: MediaRecord): Promise<OpenedSource> => {
    let size: number;
    try {
      const stat = await fsp.stat(media.source_path);
      if (!stat.isFile()) throw new InvalidInputError(`${media.source_path} is not a regular file`);
      size = stat.size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new GoneError(`source file ${media.source_path} no longer exists`, { cause: error });
      }
      throw error;
    }
    // Refuse early when the size is known; the streaming cap still guards files that grow.
    if (size > maxUploadBytes) {
      throw new InvalidInputError(`file is ${size} bytes, larger than MAX_UPLOAD_BYTES=${maxUploadBytes}`);
    }
    return { stream: fs.createReadStream(media.source_path), endKnown: true };
  };
}
