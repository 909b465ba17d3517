/**
 * Decides what a file is from its first bytes; the declared MIME type and the
 * extension are only hints. Only raster formats this sharp build decodes are
 * accepted: SVG is refused (it can carry scripts and external references), and
 * formats sharp cannot read (HEIC, JPEG XL) get a clear "unsupported format".
 */
import { InvalidInputError } from '../errors.js';

export type AcceptedImageType = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'tiff';

export const MIME_TYPE: Record<AcceptedImageType, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  tiff: 'image/tiff',
};

export const EXTENSION: Record<AcceptedImageType, string> = {
  jpeg: 'jpg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  avif: 'avif',
  tiff: 'tif',
};

/** Bytes needed to recognise every format below. */
export const SNIFF_BYTES = 64;

function startsWith(bytes: Buffer, signature: number[], offset = 0): boolean {
  return signature.every((byte, index) => bytes[offset + index] === byte);
}

function ascii(bytes: Buffer, start: number, end: number): string {
  return bytes.subarray(start, end).toString('latin1');
}

/** The ISO-BMFF major brand ('avif', 'heic', …) of AVIF/HEIF files. */
function isoBrand(bytes: Buffer): string | undefined {
  return ascii(bytes, 4, 8) === 'ftyp' ? ascii(bytes, 8, 12) : undefined;
}

export function sniffImageType(bytes: Buffer): AcceptedImageType {
  if (bytes.length === 0) throw new InvalidInputError('not an image: the file is empty (0 bytes)');
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]))
    return 'tiff';
  const brand = isoBrand(bytes);
  if (brand === 'avif' || brand === 'avis') return 'avif';
  if (brand && ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) {
    throw new InvalidInputError(
      'unsupported format: heic (HEIF/HEIC photos cannot be decoded here; upload a JPEG, PNG, WebP or AVIF)',
    );
  }
  if (startsWith(bytes, [0xff, 0x0a]) || ascii(bytes, 4, 8) === 'JXL ') {
    throw new InvalidInputError(
      'unsupported format: jxl (JPEG XL cannot be decoded here; upload a JPEG, PNG, WebP or AVIF)',
    );
  }
  const head = ascii(bytes, 0, SNIFF_BYTES).trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('svg'))) {
    throw new InvalidInputError(
      'SVG is not accepted: vector files can carry scripts and external references; upload a raster image',
    );
  }
  throw new InvalidInputError(
    `not an image: unrecognised file signature ${bytes.subarray(0, 8).toString('hex')}`,
  );
}
