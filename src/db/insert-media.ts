/** Registers a new upload: its media row, its checklist row and a first event, in one transaction. */
import type { Db } from './connect.js';
import { toNumber } from './row-values.js';
import { insertEvent, retryDbTransaction } from './fenced-update.js';
import type { DataType, Role } from '../media-roles.js';

export interface NewMedia {
  source: 'main_api' | 'local' | 'http';
  sourcePath: string;
  mainApiId?: number | null;
  userId: number;
  /** 'unknown' when the main API's file name names no known role: retrieve then fails it visibly. */
  role: Role | 'unknown';
  dataType: DataType | 'unknown';
  originalName?: string | null;
  declaredMimeType?: string | null;
  isTestData?: boolean;
  expiresAt?: number | null;
  /** HTTP uploads (POST /api/media, db/http-uploads.ts): the caller's Idempotency-Key and the stored bytes. */
  idempotency?: { owner: string; key: string | null; submittedSha256: string; incomingKey: string };
}

export async function insertMedia(db: Db, media: NewMedia, now = Date.now()): Promise<number> {
  return retryDbTransaction(() =>
    db.transaction(async (trx) => {
      const [id] = (await trx('media_files').insert({
        main_api_id: media.mainApiId ?? null,
        source: media.source,
        source_path: media.sourcePath,
        user_id: media.userId,
        role: media.role,
        data_type: media.dataType,
        original_name: media.originalName ?? null,
        declared_mime_type: media.declaredMimeType ?? null,
        status: 'pending',
        is_test_data: media.isTestData ?? false,
        expires_at: media.expiresAt ?? null,
        idempotency_owner: media.idempotency?.owner ?? null,
        idempotency_key: media.idempotency?.key ?? null,
        submitted_sha256: media.idempotency?.submittedSha256 ?? null,
        incoming_key: media.idempotency?.incomingKey ?? null,
        created_at: now,
        updated_at: now,
      })) as number[];
      const mediaId = toNumber(id);
      await trx('processing_checklist').insert({
        media_id: mediaId,
        next_attempt_at: now,
        created_at: now,
        updated_at: now,
      });
      await insertEvent(
        trx,
        mediaId,
        null,
        { event: 'registered', message: `${media.source}: ${media.sourcePath}` },
        now,
      );
      return mediaId;
    }),
  );
}
