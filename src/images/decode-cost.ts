/**
 * What one decode holds while it runs, told from the file's header. Most
 * decoders stream or shrink on load, and then the cost follows the output
 * (9 bytes per output pixel, memory-budget.ts). Some cannot, and hold a
 * buffer the size of the whole input however small the output is. Measured
 * on 10000×10000 inputs (sharp 0.35, libvips 8.18, 2400 px output, peak RSS
 * over a bare process): baseline JPEG +40 MB, PNG +70, WebP +60, TIFF +70,
 * a PNG rotated by EXIF +80, 16-bit PNG +125; but progressive JPEG +330 (the
 * whole DCT coefficient buffer), interlaced PNG +340 (the whole image), GIF
 * +460 (RGBA frames) and AVIF +1,750 (libheif and libaom decode at full size,
 * with 16-bit planes and a colour conversion copy).
 */
import type { Metadata } from 'sharp';
import { estimatedBytes } from './memory-budget.js';

export type DecodeHeader = Pick<
  Metadata,
  'format' | 'width' | 'height' | 'channels' | 'depth' | 'isProgressive' | 'chromaSubsampling'
>;

/** Samples per pixel a JPEG's coefficient buffer holds: full-size luma plus subsampled chroma. */
function jpegSamplesPerPixel(header: DecodeHeader): number {
  const channels = header.channels ?? 3;
  const chroma = channels - 1;
  const scheme = header.chromaSubsampling ?? '4:4:4';
  if (scheme.startsWith('4:2:0') || scheme.startsWith('4:1:1')) return 1 + chroma / 4;
  if (scheme.startsWith('4:2:2') || scheme.startsWith('4:4:0')) return 1 + chroma / 2;
  return channels;
}

function bytesPerSample(depth: DecodeHeader['depth']): number {
  return depth === 'ushort' || depth === 'short' ? 2 : depth === 'float' || depth === 'uint' ? 4 : 1;
}

/** Bytes per input pixel held by a decoder that cannot stream this file (0 when it can). */
export function heldBytesPerInputPixel(header: DecodeHeader): number {
  switch (header.format) {
    case 'jpeg':
      return header.isProgressive ? 2 * jpegSamplesPerPixel(header) : 0; // 16-bit coefficients
    case 'png':
      return header.isProgressive ? (header.channels ?? 4) * bytesPerSample(header.depth) : 0;
    case 'gif':
      return 5; // measured 4.6: an RGBA frame and libnsgif's own state
    case 'heif':
      return 18; // measured 17.5
    default:
      return 0;
  }
}

/** The bytes one decode of `header`'s file to `outputPixels` is expected to hold at its peak. */
export function decodeCost(header: DecodeHeader, outputPixels: number): number {
  const inputPixels = (header.width ?? 0) * (header.height ?? 0);
  // Deep sources (16-bit PNG, TIFF) were measured at about twice the output-sized work.
  const outputSide = estimatedBytes('decode', outputPixels) * Math.min(2, bytesPerSample(header.depth));
  return outputSide + heldBytesPerInputPixel(header) * inputPixels;
}
