import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import { sniffImageType } from '../../src/images/sniff-image-type.js';
import { healDelayMs, retryDelayMs } from '../../src/queue/backoff.js';

describe('sniffImageType decides from the bytes', () => {
  it.each(['jpeg', 'png', 'webp', 'gif', 'avif', 'tiff'] as const)(
    'recognises real %s output from sharp',
    async (format) => {
      const bytes = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#336699' } })
        .toFormat(format)
        .toBuffer();
      expect(sniffImageType(bytes)).toBe(format);
    },
  );

  it('refuses SVG, HEIC, empty and unknown files with a message a person understands', () => {
    const svg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>');
    expect(() => sniffImageType(svg)).toThrow(/SVG is not accepted/);
    const heic = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic'), Buffer.alloc(16)]);
    expect(() => sniffImageType(heic)).toThrow(/unsupported format: heic/);
    expect(() => sniffImageType(Buffer.alloc(0))).toThrow(/the file is empty/);
    expect(() => sniffImageType(Buffer.from('%PDF-1.7 ...'))).toThrow(InvalidInputError);
  });
});

describe('backoff', () => {
  it('grows exponentially, is jittered within [ceiling/2, ceiling], and is capped', () => {
    expect(retryDelayMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(retryDelayMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(retryDelayMs(3, 1000, 60_000, () => 0)).toBe(2000);
    expect(retryDelayMs(20, 1000, 60_000, () => 1)).toBe(60_000);
  });
  it('lets the heal delay double with each heal, up to a day', () => {
    expect(healDelayMs(0, 900_000)).toBe(900_000);
    expect(healDelayMs(2, 900_000)).toBe(3_600_000);
    expect(healDelayMs(30, 900_000)).toBe(86_400_000);
  });
});
