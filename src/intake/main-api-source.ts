/**
 * Opens a main API upload for the retrieve step, refusing unknown roles
 * before any byte is fetched. A 404/410 is asked again once after
 * GONE_CONFIRM_MS before it counts: failing an upload as GONE makes the main
 * API delete its file, and one glitchy answer (a deploy, a failover) must
 * never cost a user their picture.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GoneError, InvalidInputError } from '../errors.js';
import type { MediaRecord } from '../db/records.js';
import type { OpenedSource } from '../steps/retrieve.js';
import { ROLES } from '../media-roles.js';
import type { MainApiClient } from './main-api-client.js';
import { parseUploadName } from './temp-path.js';

export function createMainApiSourceOpener(client: MainApiClient, goneConfirmMs: number) {
  return async (media: MediaRecord, context: { signal: AbortSignal }): Promise<OpenedSource> => {
    client.fileUrl(media.source_path); // refuses paths outside /temp_images/ before anything else
    const { type, role } = parseUploadName(media.source_path);
    if (!role) {
      throw new InvalidInputError(
        `unknown upload type "${type}" in file name ${media.source_path.split('/').pop() ?? ''}: expected one of ${ROLES.join(', ')} (or sites)`,
      );
    }
    try {
      return await client.download(media.source_path, context.signal);
    } catch (error) {
      if (!(error instanceof GoneError)) throw error;
      await sleep(goneConfirmMs, undefined, { signal: context.signal });
      return client.download(media.source_path, context.signal).catch((again: unknown) => {
        if (again instanceof GoneError)
          throw new GoneError(`${again.message}, asked twice ${goneConfirmMs} ms apart`, { cause: again });
        throw again;
      });
    }
  };
}
