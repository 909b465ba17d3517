/**
 * The main API's temporary file paths (CONTRACT.md §2): only same-origin
 * `/temp_images/…` paths are ever fetched. Absolute URLs, other hosts, `..`
 * and (multiply) encoded traversal are refused. The file name carries the
 * upload's role: `{userId}-{type}-{timestamp}[-{random}].{ext}`.
 */
import { InvalidInputError } from '../errors.js';
import { parseRole, type Role } from '../media-roles.js';

export const TEMP_IMAGES_PREFIX = '/temp_images/';

/** Decodes percent-escapes until nothing changes, so %252e%252e cannot hide a `..`. */
function fullyDecoded(path: string): string {
  let current = path;
  for (let i = 0; i < 5; i++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      throw new InvalidInputError(`image_path has a malformed percent-escape: ${JSON.stringify(path)}`);
    }
    if (next === current) return current;
    current = next;
  }
  throw new InvalidInputError(`image_path is encoded too many times: ${JSON.stringify(path)}`);
}

/** The URL to fetch for an image_path, or INVALID_INPUT saying why it is refused. */
export function tempFileUrl(mainApiUrl: string, imagePath: string): string {
  if (!imagePath.startsWith(TEMP_IMAGES_PREFIX)) {
    throw new InvalidInputError(
      `image_path must be a ${TEMP_IMAGES_PREFIX}… path on the main API (got ${JSON.stringify(imagePath.slice(0, 200))})`,
    );
  }
  const decoded = fullyDecoded(imagePath);
  if (
    /[\\\0?#]/.test(decoded) ||
    decoded.split('/').some((segment) => segment === '..' || segment === '.') ||
    decoded.includes('//')
  ) {
    throw new InvalidInputError(
      `image_path tries to leave ${TEMP_IMAGES_PREFIX}: ${JSON.stringify(imagePath.slice(0, 200))}`,
    );
  }
  const base = new URL(mainApiUrl);
  const url = new URL(imagePath, base.origin);
  if (url.origin !== base.origin || !url.pathname.startsWith(TEMP_IMAGES_PREFIX)) {
    throw new InvalidInputError(
      `image_path resolves outside the main API's ${TEMP_IMAGES_PREFIX}: ${JSON.stringify(imagePath.slice(0, 200))}`,
    );
  }
  return url.href;
}

export interface UploadName {
  userId: number | undefined;
  type: string;
  role: Role | undefined;
}

export function parseUploadName(imagePath: string): UploadName {
  const name = imagePath.split('/').pop() ?? '';
  const parts = name.replace(/\.[^.]*$/, '').split('-');
  const type = (parts[1] ?? '').toLowerCase();
  const userId = /^\d+$/.test(parts[0] ?? '') ? Number(parts[0]) : undefined;
  return { userId, type, role: parseRole(type) };
}
