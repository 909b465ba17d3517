/**
 * A short, safe EXIF summary: camera, lens, when it was taken and the
 * exposure. Location is never read into the summary (GPS stays out of every
 * output); the outputs themselves carry no metadata at all.
 */
import exifReader from 'exif-reader';

export interface ExifSummary {
  camera?: string;
  lens?: string;
  takenAt?: string;
  exposureTime?: number;
  fNumber?: number;
  iso?: number;
  focalLength?: number;
  software?: string;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.replace(/\0/g, '').trim() : undefined;
}

function number(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function summariseExif(exif: Buffer | undefined): ExifSummary | undefined {
  if (!exif || exif.length === 0) return undefined;
  let tags: ReturnType<typeof exifReader>;
  try {
    tags = exifReader(exif);
  } catch {
    return undefined; // unreadable EXIF is not worth failing analysis over
  }
  const image = tags.Image ?? {};
  const photo = tags.Photo ?? {};
  const make = text(image.Make);
  const model = text(image.Model);
  const taken = photo.DateTimeOriginal ?? image.DateTime;
  const summary: ExifSummary = {
    camera: model && make && !model.startsWith(make) ? `${make} ${model}` : (model ?? make),
    lens: text(photo.LensModel),
    takenAt: taken instanceof Date && !Number.isNaN(taken.getTime()) ? taken.toISOString() : undefined,
    exposureTime: number(photo.ExposureTime),
    fNumber: number(photo.FNumber),
    iso: number(photo.ISOSpeedRatings),
    focalLength: number(photo.FocalLength),
    software: text(image.Software),
  };
  const present = Object.entries(summary).filter(([, value]) => value !== undefined);
  return present.length > 0 ? (Object.fromEntries(present) as ExifSummary) : undefined;
}
