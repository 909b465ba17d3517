/**
 * Edge-case images made at test time from real samples or with sharp (named,
 * so a failure says which): EXIF-rotated, CMYK, 16-bit, transparent logo,
 * GPS-tagged, 1×1, a PNG header claiming 2.5 gigapixels, truncated, animated.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { ROOT } from './processes.js';

export const SAMPLE = (name: string) => path.join(ROOT, 'samples/images', name);

/** Left half red, right half blue, stored sideways with EXIF orientation 6 (display: rotate 90° clockwise). */
export async function exifRotatedJpeg(): Promise<Buffer> {
  const left = await sharp({ create: { width: 400, height: 200, channels: 3, background: '#ff0000' } })
    .composite([
      {
        input: { create: { width: 200, height: 200, channels: 3, background: '#0000ff' } },
        left: 200,
        top: 0,
      },
    ])
    .jpeg()
    .toBuffer();
  return sharp(left).withMetadata({ orientation: 6 }).jpeg().toBuffer();
}

export async function cmykJpeg(): Promise<Buffer> {
  return sharp(SAMPLE('coffee-cup.png')).toColourspace('cmyk').jpeg().toBuffer();
}

export async function sixteenBitPng(): Promise<Buffer> {
  return sharp(SAMPLE('cat-chelsea.png')).toColourspace('rgb16').png().toBuffer();
}

/** A red disc on a fully transparent background. */
export async function transparentLogo(): Promise<Buffer> {
  const svg = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400"><circle cx="200" cy="200" r="150" fill="#d62828"/></svg>',
  );
  return sharp(svg).png().toBuffer();
}

/** A dark-blue wordmark on a flat white background: the shape logos usually have. */
export async function flatLogoOnWhite(): Promise<Buffer> {
  const svg = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="300"><rect width="600" height="300" fill="#ffffff"/><rect x="80" y="90" width="440" height="120" rx="30" fill="#1d3557"/><circle cx="300" cy="150" r="40" fill="#e63946"/></svg>',
  );
  return sharp(svg).flatten({ background: '#ffffff' }).png().toBuffer();
}

export async function jpegWithGps(): Promise<Buffer> {
  return sharp(SAMPLE('hubble-deep-field.jpg'))
    .withExif({
      IFD0: { Make: 'TestCam', Model: 'TestCam X100', Software: 'fixture' },
      IFD2: { DateTimeOriginal: '2024:05:01 12:30:00' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '48/1 51/1 24/1',
        GPSLongitudeRef: 'E',
        GPSLongitude: '2/1 21/1 3/1',
      },
    })
    .jpeg()
    .toBuffer();
}

export async function onePixel(): Promise<Buffer> {
  return sharp({ create: { width: 1, height: 1, channels: 3, background: '#7f7f7f' } })
    .png()
    .toBuffer();
}

export async function animatedGif(): Promise<Buffer> {
  const frame = (colour: string) =>
    sharp({ create: { width: 40, height: 40, channels: 3, background: colour } })
      .png()
      .toBuffer();
  return sharp([await frame('#00ff00'), await frame('#ff00ff')], { join: { animated: true } })
    .gif()
    .toBuffer();
}

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid PNG header claiming 50000×50000 pixels (a decompression bomb's shape) with almost no data. */
export function pngBombHeader(): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(50_000, 0);
  ihdr.writeUInt32BE(50_000, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

export function truncated(bytes: Buffer): Buffer {
  return bytes.subarray(0, Math.floor(bytes.length / 2));
}

export function writeFixture(dir: string, name: string, bytes: Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}
