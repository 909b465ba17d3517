/**
 * POST /api/media, scope `media`: an upload over HTTP, as multipart/form-data
 * (fields user_id, role, is_test_data, original_name and one `file` part) or as
 * the image itself (image/* or application/octet-stream, the fields as query
 * parameters). The key is checked before any byte of the body is read; the
 * bytes are stored and the item registered before the 202 (intake/http-intake.ts).
 * Every refusal closes the connection: the rest of a refused body is not read.
 */
import { PassThrough, type Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  UploadRefusedError,
  registerIncoming,
  storeIncoming,
  type HttpIntakeOptions,
  type SubmitAnswer,
} from '../intake/http-intake.js';
import { requireScope } from './api-auth.js';
import { sendApiError } from './api-errors.js';
import type { ApiKeyring } from './api-keys.js';
import { parseIdempotencyKey, parseUploadFields } from './submit-fields.js';
import { FORM_LIMITS, multipartRefusal, receiveForm, type Caller, type Refusal } from './submit-form.js';
import { SUBMIT_SCHEMA } from './submit-schema.js';
import { UploadSlots } from './upload-slots.js';

export interface SubmitOptions extends Omit<HttpIntakeOptions, 'db' | 'log'> {
  /** Uploads one key may stream at once (API_UPLOAD_CONCURRENCY). */
  uploadConcurrency: number;
}

/** A form's boundaries, part headers and fields around the file, on top of MAX_UPLOAD_BYTES. */
const FORM_OVERHEAD_BYTES = 64 * 1024;
/** An image type, or bytes; at most 100 characters, the length media_files.declared_mime_type keeps. */
const RAW_TYPE = /^(image\/[a-z0-9.+-]{1,94}|application\/octet-stream)$/;
const RETRY_AFTER_S = 1;

export async function registerSubmitRoute(
  app: FastifyInstance,
  intake: Pick<HttpIntakeOptions, 'db' | 'log'>,
  keyring: ApiKeyring,
  submit: SubmitOptions | undefined,
): Promise<void> {
  // Only this route reads bodies as streams: the parsers stay inside its scope.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  const route = {
    onRequest: requireScope(keyring, 'media'),
    schema: SUBMIT_SCHEMA,
    // The schema documents the bodies and parameters; they are checked in code (submit-fields.ts),
    // and a validator would need the body, which is a stream read only after the checks.
    validatorCompiler: () => () => true,
  };
  if (!submit) {
    app.post('/api/media', route, async (_request, reply) =>
      refuse(reply, { code: 'unavailable', message: 'this server has no store for uploads' }),
    );
    return;
  }
  await app.register(multipart, { limits: { ...FORM_LIMITS, fileSize: submit.maxUploadBytes + 1 } });
  const options: HttpIntakeOptions = { ...intake, ...submit };
  const slots = new UploadSlots(submit.uploadConcurrency);
  app.post(
    '/api/media',
    { ...route, bodyLimit: submit.maxUploadBytes + FORM_OVERHEAD_BYTES },
    async (request, reply) => {
      const idempotencyKey = parseIdempotencyKey(request.headers['idempotency-key']);
      if (idempotencyKey !== null && typeof idempotencyKey !== 'string')
        return refuse(reply, { code: 'bad_request', ...idempotencyKey });
      const owner = request.principal!.name;
      const release = slots.tryAcquire(owner);
      if (!release) {
        reply.header('Retry-After', String(RETRY_AFTER_S));
        const message = `more than API_UPLOAD_CONCURRENCY=${submit.uploadConcurrency} uploads at once for this key; retry in ${RETRY_AFTER_S} s`;
        return refuse(reply, { code: 'rate_limited', message });
      }
      try {
        return sendAnswer(reply, await receive(options, request, { owner, idempotencyKey }));
      } catch (error) {
        if (error instanceof UploadRefusedError)
          return refuse(reply, { code: error.code, message: error.message, field: error.field ?? 'file' });
        const refusal = multipartRefusal(error);
        if (refusal) return refuse(reply, refusal);
        throw error;
      } finally {
        release();
      }
    },
  );
}

function sendAnswer(reply: FastifyReply, answer: SubmitAnswer): FastifyReply {
  return reply
    .code(answer.created ? 202 : 200)
    .header('Cache-Control', 'no-store')
    .header('Location', `/api/media/${answer.mediaId}`)
    .send(answerBody(answer));
}

function answerBody(answer: SubmitAnswer) {
  return {
    media_id: answer.mediaId,
    status: answer.status,
    status_url: `/api/media/${answer.mediaId}`,
    serve_url: `/serve/${answer.mediaId}`,
  };
}

function refuse(reply: FastifyReply, refusal: Refusal): FastifyReply {
  reply.header('Connection', 'close');
  return sendApiError(reply, refusal.code, refusal.message, refusal.field);
}

async function receive(options: HttpIntakeOptions, request: FastifyRequest, caller: Caller) {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const declared = Number(request.headers['content-length'] ?? 0);
  if (request.isMultipart()) {
    if (declared > options.maxUploadBytes + FORM_OVERHEAD_BYTES) throw tooLarge(options, declared);
    return receiveForm(options, request, caller);
  }
  if (!RAW_TYPE.test(contentType))
    throw new UploadRefusedError(
      'unsupported_media_type',
      `Content-Type ${contentType || '(none)'} is not accepted: send multipart/form-data with a file field, or the image itself as image/* or application/octet-stream`,
      'Content-Type',
    );
  if (declared > options.maxUploadBytes) throw tooLarge(options, declared);
  return receiveRaw(options, request, caller, contentType);
}

function tooLarge(options: HttpIntakeOptions, declared: number): UploadRefusedError {
  return new UploadRefusedError(
    'payload_too_large',
    `Content-Length ${declared} is larger than MAX_UPLOAD_BYTES=${options.maxUploadBytes} bytes`,
    'file',
  );
}

async function receiveRaw(
  options: HttpIntakeOptions,
  request: FastifyRequest,
  caller: Caller,
  contentType: string,
): Promise<SubmitAnswer> {
  const fields = parseUploadFields(request.query as Record<string, unknown>, 'query');
  if ('field' in fields) throw new UploadRefusedError('bad_request', fields.message, fields.field);
  const incoming = await storeIncoming(options.store, bodyStream(request), options.maxUploadBytes);
  return registerIncoming(options, { ...caller, fields, declaredMimeType: contentType }, incoming);
}

/**
 * The raw body, as a stream of its own: giving up on it (too large, not an
 * image) must not destroy the request, whose socket still carries the
 * answer. A connection that closes before the body ended fails it.
 */
function bodyStream(request: FastifyRequest): Readable {
  const raw = request.raw;
  const body = new PassThrough();
  raw.on('close', () => {
    if (!raw.complete)
      body.destroy(
        new UploadRefusedError('bad_request', 'the body ended early: the connection closed', 'file'),
      );
  });
  // A client that goes away mid-body (aborted, ECONNRESET) sent a short body, not a server fault.
  raw.on('error', () =>
    body.destroy(
      new UploadRefusedError('bad_request', 'the body ended early: the connection failed', 'file'),
    ),
  );
  return raw.pipe(body);
}
