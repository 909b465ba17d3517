/**
 * The OpenAPI description of POST /api/media: its two bodies (a form, or the
 * image itself with the fields as query parameters), the Idempotency-Key
 * header and the answers. Documentation only: the route checks everything in
 * code (submit-fields.ts), as the body is a stream.
 */
import { ROLES } from '../media-roles.js';
import { BEARER, errorResponses, objectAnswer } from './api-schemas.js';
import { MAX_IDEMPOTENCY_KEY_LENGTH, MAX_ORIGINAL_NAME_LENGTH } from './submit-fields.js';

const text = (description: string, extra: object = {}) => ({ type: 'string', description, ...extra });

const FIELDS = {
  user_id: text('the owner: a positive integer'),
  role: text('what the image is for; decides its sizes and storage folder', { enum: [...ROLES, 'sites'] }),
  is_test_data: text(
    'test data (kept TEST_DATA_RETENTION_HOURS, removed by cleanup --test-data); default false',
    {
      enum: ['true', 'false'],
    },
  ),
  original_name: text(
    `the file's name, a hint (at most ${MAX_ORIGINAL_NAME_LENGTH} characters); a form defaults to the file part's name`,
  ),
} as const;

const BINARY = { type: 'string', format: 'binary', description: 'the image bytes' } as const;

export const SUBMIT_SCHEMA = {
  summary: 'Submit an upload: a form with a file part, or the image itself; 202 once it is stored',
  description:
    'multipart/form-data: the fields and one part named `file`, in any order. ' +
    'Or the image as the body (image/* or application/octet-stream) with the fields as query parameters. ' +
    'The bytes are stored and the item registered before the answer; the worker then processes it. ' +
    'The size cap (MAX_UPLOAD_BYTES) is enforced while streaming (413); the type is read from the bytes (415 for non-images, SVG, HEIC). ' +
    'With an Idempotency-Key, a repeat with the same bytes answers 200 with the same item; other bytes 409. See docs/http-api.md.',
  tags: ['media'],
  security: BEARER,
  headers: {
    type: 'object',
    properties: {
      'idempotency-key': text(
        `1–${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters, scoped to the API key: the same key and bytes give the same item`,
      ),
    },
  },
  querystring: {
    type: 'object',
    description: 'with a raw image body only',
    properties: FIELDS,
  },
  body: {
    content: {
      'multipart/form-data': {
        schema: {
          type: 'object',
          required: ['user_id', 'role', 'file'],
          properties: { ...FIELDS, file: { ...BINARY, description: 'the image (one part)' } },
        },
      },
      'image/*': { schema: BINARY },
      'application/octet-stream': { schema: BINARY },
    },
  },
  response: {
    200: objectAnswer(
      'an earlier request with this Idempotency-Key and these bytes made this item: media_id, status, status_url, serve_url',
    ),
    202: objectAnswer(
      'stored and registered, processing follows: media_id, status (pending), status_url, serve_url',
    ),
    ...errorResponses(400, 409, 413, 415),
  },
};
