/**
 * Logo background removal: the colour of the image border, when the border
 * is uniform, is flooded inwards (4-connected, within a colour tolerance) and
 * made transparent; pixels at the edge of the flood whose colour is between
 * the background and the logo get partial alpha, so edges stay anti-aliased.
 * A border that is not uniform (a photo, a busy logo) is left intact.
 *
 * Pure function over raw pixels; callers run it in a worker thread.
 */
export interface RawPixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3 | 4;
}

export interface BackgroundRemoval {
  /** RGBA pixels, background transparent. */
  rgba: Uint8Array;
  background: [number, number, number];
  removedShare: number;
}

/** Colour distance (RGB Euclidean) below which a pixel counts as background. */
const TOLERANCE = 40;
/** Share of border pixels that must match the background colour for the border to count as uniform. */
const UNIFORM_BORDER_SHARE = 0.9;

function distance(data: Uint8Array, offset: number, colour: readonly number[]): number {
  const dr = data[offset]! - colour[0]!;
  const dg = data[offset + 1]! - colour[1]!;
  const db = data[offset + 2]! - colour[2]!;
  return Math.sqrt(dr * dr + dg * dg + db * db);
}

function borderIndexes(width: number, height: number): number[] {
  const indexes: number[] = [];
  for (let x = 0; x < width; x++) indexes.push(x, (height - 1) * width + x);
  for (let y = 1; y < height - 1; y++) indexes.push(y * width, y * width + width - 1);
  return indexes;
}

function medianColour(image: RawPixels, indexes: number[]): [number, number, number] {
  const channel = (c: number) => {
    const values = indexes.map((i) => image.data[i * image.channels + c]!).sort((a, b) => a - b);
    return values[values.length >> 1]!;
  };
  return [channel(0), channel(1), channel(2)];
}

export function removeBackground(image: RawPixels): BackgroundRemoval | undefined {
  const { data, width, height, channels } = image;
  if (width < 3 || height < 3) return undefined;
  const border = borderIndexes(width, height);
  const opaqueBorder = channels === 4 ? border.filter((i) => data[i * 4 + 3]! > 250) : border;
  // A border that is already transparent has no background left to remove.
  if (opaqueBorder.length < border.length * UNIFORM_BORDER_SHARE) return undefined;
  const background = medianColour(image, opaqueBorder);
  const matching = opaqueBorder.filter((i) => distance(data, i * channels, background) <= TOLERANCE).length;
  if (matching < border.length * UNIFORM_BORDER_SHARE) return undefined;

  const isBackground = floodFrom(image, border, background);
  const rgba = new Uint8Array(width * height * 4);
  let removed = 0;
  for (let i = 0; i < width * height; i++) {
    const from = i * channels;
    rgba[i * 4] = data[from]!;
    rgba[i * 4 + 1] = data[from + 1]!;
    rgba[i * 4 + 2] = data[from + 2]!;
    const alpha = channels === 4 ? data[from + 3]! : 255;
    if (isBackground[i]) {
      rgba[i * 4 + 3] = 0;
      removed++;
    } else {
      rgba[i * 4 + 3] = touchesBackground(isBackground, i, width, height)
        ? edgeAlpha(distance(data, from, background), alpha)
        : alpha;
    }
  }
  const removedShare = removed / (width * height);
  // Nothing (or everything) flooded: not a background worth removing.
  if (removedShare < 0.01 || removedShare > 0.98) return undefined;
  return { rgba, background, removedShare };
}

function floodFrom(image: RawPixels, seeds: number[], background: readonly number[]): Uint8Array {
  const { data, width, height, channels } = image;
  const visited = new Uint8Array(width * height);
  const stack = new Int32Array(width * height);
  let top = 0;
  const push = (i: number) => {
    if (visited[i]) return;
    if (channels === 4 && data[i * 4 + 3]! <= 250) {
      visited[i] = 1; // already transparent: part of the background, keep flooding through it
    } else if (distance(data, i * channels, background) > TOLERANCE) {
      return;
    }
    visited[i] = 1;
    stack[top++] = i;
  };
  for (const seed of seeds) push(seed);
  while (top > 0) {
    const i = stack[--top]!;
    const x = i % width;
    if (x > 0) push(i - 1);
    if (x < width - 1) push(i + 1);
    if (i >= width) push(i - width);
    if (i < width * (height - 1)) push(i + width);
  }
  return visited;
}

function touchesBackground(isBackground: Uint8Array, i: number, width: number, height: number): boolean {
  const x = i % width;
  return (
    (x > 0 && isBackground[i - 1] === 1) ||
    (x < width - 1 && isBackground[i + 1] === 1) ||
    (i >= width && isBackground[i - width] === 1) ||
    (i < width * (height - 1) && isBackground[i + width] === 1)
  );
}

/** Between one and two tolerances from the background: a blended edge pixel, partly transparent. */
function edgeAlpha(distanceFromBackground: number, alpha: number): number {
  const opacity = Math.min(1, Math.max(0, (distanceFromBackground - TOLERANCE) / TOLERANCE));
  return Math.round(alpha * Math.max(opacity, 0.25));
}
