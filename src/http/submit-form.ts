/**
 * The form shape of POST /api/media (multipart/form-data, streamed by
 * @fastify/multipart): the fields and exactly one part named file, in any
 * order (curl -F sends them as written; browsers' FormData as appended). The
 * file streams into incoming/ when its part comes, so fields after it can
 * only be judged once it is stored: a wrong one then discards the stored
 * bytes (no row points at them) and answers 400 naming it.
 */
import {
  UploadRefusedError,
  discardIncoming,
  registerIncoming,
  storeIncoming,
  type HttpIntakeOptions,
  type IncomingObject,
  type Submission,
  type SubmitAnswer,
} from '../intake/http-intake.js';
import type { FastifyRequest } from 'fastify';
import type { ApiErrorCode, FieldProblem } from './api-errors.js';
import { fileNameHint, parseUploadFields, UPLOAD_FIELDS } from './submit-fields.js';

const FIELD_BYTES = 1024;

/** busboy's limits but the file size (MAX_UPLOAD_BYTES + 1: one byte over, so storeIncoming's cap sees it and answers 413). */
export const FORM_LIMITS = {
  files: 1,
  fields: UPLOAD_FIELDS.length,
  parts: UPLOAD_FIELDS.length + 1,
  fieldSize: FIELD_BYTES,
  fieldNameSize: 100,
  headerPairs: 20,
};

/** Who is submitting, and with which Idempotency-Key (if any). */
export type Caller = Pick<Submission, 'owner' | 'idempotencyKey'>;

export type Refusal = Omit<FieldProblem, 'field'> & { code: ApiErrorCode; field?: string };

/** One file part named file, and the fields before or after it. */
export async function receiveForm(
  options: HttpIntakeOptions,
  request: FastifyRequest,
  caller: Caller,
): Promise<SubmitAnswer> {
  const values: Record<string, unknown> = {};
  let file: { incoming: IncomingObject; filename: string; mimetype: string } | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        addField(values, part);
        continue;
      }
      if (part.fieldname !== 'file')
        throw new UploadRefusedError(
          'bad_request',
          `the image must be sent in the field named file (got "${part.fieldname}")`,
          part.fieldname,
        );
      const incoming = await storeIncoming(options.store, part.file, options.maxUploadBytes);
      file = { incoming, filename: part.filename, mimetype: part.mimetype };
    }
    if (!file)
      throw new UploadRefusedError(
        'bad_request',
        'file is required: the form has no part named file',
        'file',
      );
    const fields = parseUploadFields(values, 'form');
    if ('field' in fields) throw new UploadRefusedError('bad_request', fields.message, fields.field);
    const named = { ...fields, originalName: fields.originalName ?? fileNameHint(file.filename) };
    return await registerIncoming(
      options,
      { ...caller, fields: named, declaredMimeType: declaredType(file.mimetype) },
      file.incoming,
    );
  } catch (error) {
    // Refused after the file was stored: nothing points at it. (A database error leaves it to
    // cleanup --orphans: the row may have been written before the answer was lost.)
    // (A conflict was answered from the earlier row, and registerIncoming discarded the bytes itself.)
    const refused =
      (error instanceof UploadRefusedError && error.code !== 'conflict') ||
      multipartRefusal(error) !== undefined;
    if (file && refused) await discardIncoming(options, file.incoming.key);
    throw error;
  }
}

function addField(
  values: Record<string, unknown>,
  part: { fieldname: string; value: unknown; valueTruncated: boolean },
) {
  if (part.valueTruncated)
    throw new UploadRefusedError(
      'bad_request',
      `${part.fieldname} is longer than ${FIELD_BYTES} bytes`,
      part.fieldname,
    );
  values[part.fieldname] = part.fieldname in values ? [values[part.fieldname], part.value] : part.value;
}

/**
 * The part's Content-Type is only a hint (the bytes are sniffed): kept when it
 * looks like a type and fits media_files.declared_mime_type (100 characters).
 */
function declaredType(mimetype: string | undefined): string | null {
  return mimetype && /^[\w.+-]{1,40}\/[\w.+-]{1,59}$/.test(mimetype) ? mimetype : null;
}

/** @fastify/multipart's own refusals (too many parts or files, a form cut off), in the API's shape. */
export function multipartRefusal(error: unknown): Refusal | undefined {
  const code = (error as { code?: unknown }).code;
  const message = (error as Error).message;
  if (code === 'FST_FILES_LIMIT')
    return { code: 'bad_request', field: 'file', message: 'only one file may be sent' };
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT')
    return {
      code: 'bad_request',
      field: 'file',
      message: `too many form fields: expected ${UPLOAD_FIELDS.join(', ')} and file`,
    };
  if (code === 'FST_PROTO_VIOLATION') return { code: 'bad_request', field: 'file', message };
  if (code === 'FST_REQ_FILE_TOO_LARGE')
    return { code: 'payload_too_large', field: 'file', message: 'the file is larger than MAX_UPLOAD_BYTES' };
  if (
    /^(Unexpected end of form|Part terminated early|Malformed part header|Multipart: Boundary not found)/i.test(
      message,
    )
  )
    return { code: 'bad_request', field: 'file', message: `the form could not be read: ${message}` };
  return undefined;
}
