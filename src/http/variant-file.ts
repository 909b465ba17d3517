/**
 * Opening a variant's object before anything about it is answered, 304
 * included: an object cleanup deleted, or one damaged in storage, must not be
 * revalidated as if it were still there. One open per request, through the
 * serve cache on a bucket; variants are immutable under their ETag, so the
 * recorded size must be the size. A small variant the memory cache holds
 * comes back as its bytes (no stream, no file open).
 */
import { InvalidRangeError, type ByteRange, type OpenedObject } from '../storage/object-store.js';
import type { ServableVariant } from './variant-lookup.js';

/** A whole variant held in memory (memory-body-cache.ts). */
export interface BufferedObject {
  body: Buffer;
  size: number;
  range: undefined;
}

export type VariantObject = OpenedObject | BufferedObject;

/** Opens a variant's bytes (the store's open, the read-through cache's, or memory); undefined when missing. */
export type VariantOpener = (
  variant: ServableVariant,
  range: ByteRange | undefined,
) => Promise<VariantObject | undefined>;

export type VariantFile =
  | { state: 'open'; object: VariantObject }
  | { state: 'missing' }
  | { state: 'damaged'; detail: string }
  /** The range asked for selects no byte of the variant (HTTP 416). */
  | { state: 'unsatisfiable' }
  /** The storage itself failed (EMFILE, EIO, a bucket's 503): the object may well be fine. */
  | { state: 'unreadable'; detail: string };

/** Lets go of an opened object that will not be sent. */
export function discardObject(object: VariantObject): void {
  if ('stream' in object) object.stream.destroy();
}

export async function openVariantFile(
  open: VariantOpener,
  variant: ServableVariant,
  range: ByteRange | undefined,
): Promise<VariantFile> {
  let object: VariantObject | undefined;
  try {
    object = await open(variant, range);
  } catch (error) {
    if (error instanceof InvalidRangeError) return { state: 'unsatisfiable' };
    return { state: 'unreadable', detail: (error as Error).message };
  }
  if (!object) return { state: 'missing' };
  if (object.size === variant.bytes) return { state: 'open', object };
  discardObject(object);
  return { state: 'damaged', detail: `recorded ${variant.bytes} bytes, found ${object.size}` };
}
