/**
 * The Range header of a /serve request (RFC 9110 §14): one `bytes=` range,
 * resolved against the variant's recorded size. Anything else (several
 * ranges, another unit, a malformed header) is ignored and the whole variant
 * is sent, as the RFC allows; If-Range with another validator also means
 * "send it whole".
 */
import type { ByteRange } from '../storage/object-store.js';

export type RangeRequest =
  | { kind: 'whole' }
  | { kind: 'range'; range: ByteRange }
  /** Syntactically a range, but none of its bytes exist (416). */
  | { kind: 'unsatisfiable' };

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/;

export function parseRange(
  header: string | undefined,
  ifRange: string | undefined,
  etag: string,
  size: number,
): RangeRequest {
  if (!header) return { kind: 'whole' };
  if (ifRange !== undefined && ifRange.trim() !== etag) return { kind: 'whole' };
  const match = SINGLE_RANGE.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return { kind: 'whole' };
  const [first, last] = [match[1]!, match[2]!];
  if (first === '') {
    // A suffix: the last N bytes.
    const length = Number(last);
    if (length === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', range: { start: Math.max(0, size - length), end: size - 1 } };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Number(last);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return { kind: 'whole' };
  if (start >= size) return { kind: 'unsatisfiable' };
  // "bytes=9-3" is not a range at all (RFC 9110: ignore it), unlike one past the end.
  if (end < start) return { kind: 'whole' };
  return { kind: 'range', range: { start, end: Math.min(end, size - 1) } };
}
