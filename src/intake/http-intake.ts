/**
 * Taking in an upload sent over HTTP (POST /api/media), durably before it is
 * answered: the bytes are streamed through the size cap and a sha256 into
 * the store under incoming/YYYY-MM-DD/<random>.<ext> (the type sniffed from
 * the first bytes before anything is stored), then the media row is
 * registered pointing at that object. From there it is an upload like any
 * other: the worker's retrieve step copies it into bulk/ (intake/http-upload-source.ts).
 *
 * A crash between the put and the row leaves an incoming/ object no row
 * points at: `cleanup --orphans` removes it after its grace period. So an
 * object is deleted here only when no row can point at it (a repeat or a
 * conflict answered from an earlier row); after a database error it is left
 * for cleanup, which asks the rows.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Db } from '../db/connect.js';
import { registerHttpUpload, type ConflictingPart } from '../db/http-uploads.js';
import { findItemView } from '../db/item-view.js';
import { InvalidInputError } from '../errors.js';
import {
  EXTENSION,
  MIME_TYPE,
  SNIFF_BYTES,
  sniffImageType,
  type AcceptedImageType,
} from '../images/sniff-image-type.js';
import type { Logger } from '../log.js';
import { dataTypeOf, type Role } from '../media-roles.js';
import { expiresAtFor, type RetentionPolicy } from '../retention.js';
import type { ObjectStore } from '../storage/object-store.js';
import { HashingLimiter, peekStream } from '../storage/stream-guards.js';

export interface HttpIntakeOptions {
  db: Db;
  store: ObjectStore;
  maxUploadBytes: number;
  retention: RetentionPolicy;
  log: Logger;
}

/** The upload's fields, validated (http/submit-fields.ts). */
export interface UploadFields {
  userId: number;
  role: Role;
  isTestData: boolean;
  originalName: string | null;
}

/** The bytes, stored under incoming/. */
export interface IncomingObject {
  key: string;
  type: AcceptedImageType;
  bytes: number;
  sha256: string;
}

export interface Submission {
  /** The API key's name: Idempotency-Keys are scoped to it. */
  owner: string;
  idempotencyKey: string | null;
  fields: UploadFields;
  declaredMimeType: string | null;
}

/** What to answer: a new item (202), or the item an earlier request with the same key made (200). */
export interface SubmitAnswer {
  created: boolean;
  mediaId: number;
  status: string;
}

type RefusalCode = 'bad_request' | 'conflict' | 'payload_too_large' | 'unsupported_media_type';

/** The upload is refused for what the caller sent; the route answers it in the API's error shape. */
export class UploadRefusedError extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'UploadRefusedError';
  }
}

export function incomingKey(type: AcceptedImageType, now = Date.now()): string {
  return `incoming/${new Date(now).toISOString().slice(0, 10)}/${randomUUID()}.${EXTENSION[type]}`;
}

/** Sniffs the first bytes, then streams the whole body into incoming/ through the cap and the hash. */
export async function storeIncoming(
  store: ObjectStore,
  source: Readable,
  maxUploadBytes: number,
): Promise<IncomingObject> {
  const limiter = new HashingLimiter(maxUploadBytes);
  const peeked = await peekStream(source, SNIFF_BYTES).catch((error: unknown) => {
    source.destroy();
    throw error;
  });
  try {
    const type = sniffed(peeked.head);
    const key = incomingKey(type);
    await store.put(key, peeked.stream, { transforms: [limiter], contentType: MIME_TYPE[type] });
    return { key, type, bytes: limiter.bytes, sha256: limiter.digest() };
  } catch (error) {
    if (limiter.bytes > maxUploadBytes)
      throw new UploadRefusedError(
        'payload_too_large',
        `the file is larger than MAX_UPLOAD_BYTES=${maxUploadBytes} bytes (refused after ${limiter.bytes} bytes)`,
        'file',
      );
    throw error;
  } finally {
    peeked.stream.destroy();
  }
}

function sniffed(head: Buffer): AcceptedImageType {
  if (head.length === 0) throw new UploadRefusedError('bad_request', 'file is empty (0 bytes)', 'file');
  try {
    return sniffImageType(head);
  } catch (error) {
    if (error instanceof InvalidInputError)
      throw new UploadRefusedError('unsupported_media_type', error.message, 'file');
    throw error;
  }
}

/** Registers the stored bytes as a pending item, or answers from the earlier item the Idempotency-Key names. */
export async function registerIncoming(
  options: HttpIntakeOptions,
  submission: Submission,
  incoming: IncomingObject,
): Promise<SubmitAnswer> {
  const { fields } = submission;
  const dataType = dataTypeOf(fields.role);
  const registration = await registerHttpUpload(options.db, {
    owner: submission.owner,
    idempotencyKey: submission.idempotencyKey,
    sha256: incoming.sha256,
    incomingKey: incoming.key,
    userId: fields.userId,
    role: fields.role,
    dataType,
    originalName: fields.originalName,
    declaredMimeType: submission.declaredMimeType,
    isTestData: fields.isTestData,
    expiresAt: expiresAtFor(options.retention, dataType, fields.isTestData),
  });
  if (registration.outcome === 'created')
    return { created: true, mediaId: registration.id, status: 'pending' };
  // Answered from an earlier row: nothing points at what this request stored.
  if (registration.incomingKey !== incoming.key) await discardIncoming(options, incoming.key);
  if (registration.outcome === 'conflict')
    throw new UploadRefusedError(
      'conflict',
      `Idempotency-Key "${submission.idempotencyKey}" was used ${usedFor(registration.differs)} (media ${registration.id}); use a new key for a new upload`,
      'Idempotency-Key',
    );
  const view = await findItemView(options.db, registration.id);
  return { created: false, mediaId: registration.id, status: view?.status ?? 'pending' };
}

/** What the earlier request with the key sent that this one changed, as the 409 says it. */
function usedFor(differs: ConflictingPart): string {
  if (differs.part === 'bytes') return 'for other bytes';
  return `for the same bytes with another ${differs.part} (it had ${differs.part} ${String(differs.earlier)})`;
}

/** Removes stored bytes no row points at; a failure is left to `cleanup --orphans`. */
export async function discardIncoming(options: Pick<HttpIntakeOptions, 'store' | 'log'>, key: string) {
  await options.store.delete(key).catch((error: unknown) => {
    options.log.warn(
      { key, err: (error as Error).message },
      'could not remove an unused incoming upload; cleanup --orphans will',
    );
  });
}
