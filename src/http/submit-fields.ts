/**
 * The parameters of POST /api/media, validated one by one (the first wrong
 * one is named): the fields (form fields, or query parameters beside a raw
 * body) and the Idempotency-Key header.
 */
import type { UploadFields } from '../intake/http-intake.js';
import { ROLES, parseRole } from '../media-roles.js';
import type { FieldProblem } from './api-errors.js';

export const UPLOAD_FIELDS = ['user_id', 'role', 'is_test_data', 'original_name'] as const;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;
export const MAX_ORIGINAL_NAME_LENGTH = 255;

const USER_ID = /^[1-9]\d{0,14}$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;

const bad = (field: string, message: string): FieldProblem => ({ field, message });

/** Where the fields came from, for the messages: form fields or query parameters. */
export type FieldSource = 'form' | 'query';

export function parseUploadFields(
  values: Record<string, unknown>,
  source: FieldSource,
): UploadFields | FieldProblem {
  for (const name of Object.keys(values)) {
    if (!(UPLOAD_FIELDS as readonly string[]).includes(name))
      return bad(name, `unknown field "${name}": expected ${UPLOAD_FIELDS.join(', ')}`);
    if (typeof values[name] !== 'string') return bad(name, `${name} may be given once`);
  }
  const raw = values as Partial<Record<(typeof UPLOAD_FIELDS)[number], string>>;
  const where = source === 'form' ? ' (a form field)' : ' (a query parameter)';
  if (raw.user_id === undefined) return bad('user_id', `user_id is required${where}`);
  if (!USER_ID.test(raw.user_id))
    return bad('user_id', `user_id must be a positive integer (got "${raw.user_id}")`);
  if (raw.role === undefined) return bad('role', `role is required${where}`);
  const role = parseRole(raw.role);
  if (!role) return bad('role', `role must be one of ${ROLES.join(', ')} (got "${raw.role}")`);
  const isTestData = raw.is_test_data ?? 'false';
  if (isTestData !== 'true' && isTestData !== 'false')
    return bad('is_test_data', `is_test_data must be true or false (got "${isTestData}")`);
  const originalName = raw.original_name ?? null;
  if (originalName !== null) {
    const problem = nameProblem(originalName);
    if (problem) return bad('original_name', `original_name ${problem}`);
  }
  return { userId: Number(raw.user_id), role, isTestData: isTestData === 'true', originalName };
}

function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > MAX_ORIGINAL_NAME_LENGTH)
    return `must be at most ${MAX_ORIGINAL_NAME_LENGTH} characters (got ${name.length})`;
  if (CONTROL.test(name)) return 'must not contain control characters';
  return undefined;
}

/** A form's file name as a hint for original_name: kept when it is a usable name, else dropped (never an error). */
export function fileNameHint(filename: string | undefined): string | null {
  const base = filename?.split(/[/\\]/).pop() ?? '';
  return base && !nameProblem(base) ? base : null;
}

/** The Idempotency-Key header: absent (null), or 1–200 printable ASCII characters. */
export function parseIdempotencyKey(header: string | string[] | undefined): string | null | FieldProblem {
  if (header === undefined) return null;
  const field = 'Idempotency-Key';
  if (typeof header !== 'string') return bad(field, 'Idempotency-Key may be given once');
  if (header.length > MAX_IDEMPOTENCY_KEY_LENGTH)
    return bad(
      field,
      `Idempotency-Key must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters (got ${header.length})`,
    );
  if (!PRINTABLE_ASCII.test(header))
    return bad(field, 'Idempotency-Key must be 1 or more printable ASCII characters');
  return header;
}
