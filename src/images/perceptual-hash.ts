/**
 * A 64-bit perceptual hash (pHash): the 8×8 lowest frequencies of the DCT of a
 * 32×32 greyscale copy, each bit set when above their median. Near-identical
 * images have hashes a few bits apart (Hamming distance).
 */
import type { Sharp } from 'sharp';

const N = 32;
const COSINES = Array.from({ length: 8 }, (_, u) =>
  Array.from({ length: N }, (_, x) => Math.cos(((2 * x + 1) * u * Math.PI) / (2 * N))),
);

export async function perceptualHash(image: Sharp): Promise<string> {
  const grey = await image.greyscale().resize(N, N, { fit: 'fill' }).raw().toBuffer();
  const coefficients: number[] = [];
  for (let u = 0; u < 8; u++) {
    for (let v = 0; v < 8; v++) {
      let sum = 0;
      for (let y = 0; y < N; y++)
        for (let x = 0; x < N; x++) sum += grey[y * N + x]! * COSINES[u]![x]! * COSINES[v]![y]!;
      coefficients.push(sum);
    }
  }
  // The DC term (overall brightness) says nothing about structure: leave it out of the median.
  const median = [...coefficients.slice(1)].sort((a, b) => a - b)[31]!;
  let hash = 0n;
  for (const c of coefficients) hash = (hash << 1n) | (c > median ? 1n : 0n);
  return hash.toString(16).padStart(16, '0');
}
