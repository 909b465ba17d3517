/** Opens a main API upload for the retrieve step, refusing unknown roles before any byte is fetched. */
import type { Readable } from 'node:stream';
import { InvalidInputError } from '../errors.js';
import type { MediaRecord } from '../db/records.js';
import { ROLES } from '../media-roles.js';
import type { MainApiClient } from './main-api-client.js';
import { parseUploadName } from './temp-path.js';

export function createMainApiSourceOpener(client: MainApiClient) {
  return async (media: MediaRecord, context: { signal: AbortSignal }): Promise<Readable> => {
    client.fileUrl(media.source_path); // refuses paths outside /temp_images/ before anything else
    const { type, role } = parseUploadName(media.source_path);
    if (!role) {
      throw new InvalidInputError(
        `unknown upload type "${type}" in file name ${media.source_path.split('/').pop() ?? ''}: expected one of ${ROLES.join(', ')} (or sites)`,
      );
    }
    return client.download(media.source_path, context.signal);
  };
}
