/**
 * Hostile uploads, each built here from a real image or by hand, each named
 * for what it tries: empty and truncated files, lying extensions, HTML and
 * SVG with an external entity, decompression bombs (a tiny PNG declaring
 * 50000×50000, a 30000×30000 PNG of zeros that deflates to ~100 kB, a JPEG
 * whose header claims 65000×65000), a 1000-frame GIF, a gzip bomb served
 * with Content-Encoding: gzip, and oversize bodies with and without
 * Content-Length.
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { SAMPLE, pngBombHeader, truncated } from '../helpers/image-fixtures.js';
import { tempPath, type ChaosUpload } from './uploads.js';

const MIB = 1024 * 1024;

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

/** A complete, valid 8-bit greyscale PNG of zeros: `side`² pixels in very few bytes. */
export async function zeroPng(side: number): Promise<Buffer> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  const rowLength = side + 1; // filter byte 0, then the pixels: all zeros
  const batch = Buffer.alloc(rowLength * Math.max(1, Math.floor((8 * MIB) / rowLength)));
  function* zeros(): Generator<Buffer> {
    for (let left = rowLength * side; left > 0; left -= batch.length)
      yield batch.subarray(0, Math.min(left, batch.length));
  }
  const chunks: Buffer[] = [];
  await pipeline(Readable.from(zeros()), zlib.createDeflate({ level: 9 }), async (source) => {
    for await (const chunk of source as AsyncIterable<Buffer>) chunks.push(chunk);
  });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.concat(chunks)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A real JPEG whose frame header (SOF) is rewritten to claim 65000×65000 pixels. */
async function jpegClaimingHugeDimensions(): Promise<Buffer> {
  const jpeg = Buffer.from(
    await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } })
      .jpeg({ mozjpeg: false })
      .toBuffer(),
  );
  for (let i = 2; i < jpeg.length - 9; i++) {
    if (jpeg[i] === 0xff && (jpeg[i + 1] === 0xc0 || jpeg[i + 1] === 0xc2)) {
      jpeg.writeUInt16BE(65_000, i + 5); // height (libjpeg's own limit is 65500)
      jpeg.writeUInt16BE(65_000, i + 7); // width
      return jpeg;
    }
  }
  throw new Error('no SOF marker in the generated JPEG');
}

async function thousandFrameGif(): Promise<Buffer> {
  // A white square walking over black: consecutive frames always differ, so none is merged away.
  const frames = await Promise.all(
    Array.from({ length: 1000 }, (_, i) => {
      const pixels = Buffer.alloc(16 * 16 * 3);
      const [x, y] = [(i % 8) * 2, (Math.floor(i / 8) % 8) * 2];
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ] as const)
        pixels.fill(255, ((y + dy) * 16 + x + dx) * 3, ((y + dy) * 16 + x + dx) * 3 + 3);
      return sharp(pixels, { raw: { width: 16, height: 16, channels: 3 } })
        .png()
        .toBuffer();
    }),
  );
  return sharp(frames, { join: { animated: true } })
    .gif()
    .toBuffer();
}

const XXE_SVG = `<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><text x="10" y="20">&xxe;</text></svg>`;

const HTML =
  '<!doctype html><html><head><title>not a photo</title></head><body><img src=x onerror=alert(1)></body></html>';

/** The hostile uploads with ids from `firstId`, and the two good ones that only lie about their type. */
export async function hostileUploads(firstId: number): Promise<ChaosUpload[]> {
  const hubble = fs.readFileSync(SAMPLE('hubble-deep-field.jpg'));
  const cat = fs.readFileSync(SAMPLE('cat-chelsea.png'));
  const pngHead = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
    .png()
    .toBuffer();
  const oversize = Buffer.concat([hubble.subarray(0, 4096), Buffer.alloc(6 * MIB, 0x5a)]);
  let id = firstId;
  const next = (
    label: string,
    role: string,
    ext: string,
    file: Buffer,
    expect: ChaosUpload['expect'],
    more: Partial<ChaosUpload> = {},
  ): ChaosUpload => {
    const upload: ChaosUpload = { id, label, imagePath: tempPath(id, role, ext), file, expect, ...more };
    id++;
    return upload;
  };
  return [
    next('zero-byte file', 'profile', 'jpg', Buffer.alloc(0), 'INVALID_INPUT'),
    next('truncated JPEG (first half)', 'product', 'jpg', truncated(hubble), 'INVALID_INPUT'),
    next('truncated PNG (first half)', 'profile', 'png', truncated(cat), 'INVALID_INPUT'),
    next('PNG named .jpg (wrong extension, valid bytes)', 'profile', 'jpg', cat, 'completed'),
    next('JPEG named .png (wrong extension, valid bytes)', 'product', 'png', hubble, 'completed'),
    next('HTML named .jpg', 'profile', 'jpg', Buffer.from(HTML), 'INVALID_INPUT'),
    next('PNG header declaring 50000×50000 with no data', 'product', 'png', pngBombHeader(), 'INVALID_INPUT'),
    next(
      '30000×30000 PNG of zeros (~100 kB, 900 MP)',
      'product',
      'png',
      await zeroPng(30_000),
      'INVALID_INPUT',
    ),
    next(
      'JPEG header claiming 65000×65000',
      'event',
      'jpg',
      await jpegClaimingHugeDimensions(),
      'INVALID_INPUT',
    ),
    next(
      '8000×8000 PNG of zeros (64 MP, under the pixel limit)',
      'product',
      'png',
      await zeroPng(8000),
      'completed',
    ),
    next('1000-frame animated GIF', 'event', 'gif', await thousandFrameGif(), 'completed-or-INVALID_INPUT'),
    next('SVG with an external entity', 'logo', 'svg', Buffer.from(XXE_SVG), 'INVALID_INPUT'),
    next('SVG with an external entity, named .png', 'logo', 'png', Buffer.from(XXE_SVG), 'INVALID_INPUT'),
    next(
      'gzip bomb: 200 MiB behind a PNG signature, Content-Encoding: gzip',
      'profile',
      'png',
      zlib.gzipSync(Buffer.concat([pngHead.subarray(0, 33), Buffer.alloc(200 * MIB)]), { level: 9 }),
      'INVALID_INPUT',
      { headers: { 'Content-Encoding': 'gzip', 'Content-Type': 'image/png' } },
    ),
    next('6 MiB JPEG-looking body with Content-Length', 'product', 'jpg', oversize, 'INVALID_INPUT'),
    next(
      '6 MiB JPEG-looking body, chunked (no Content-Length)',
      'product',
      'jpg',
      oversize,
      'INVALID_INPUT',
      {
        noContentLength: true,
      },
    ),
  ];
}
