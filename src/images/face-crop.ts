/**
 * Where a cover crop keeps its window when faces are known: around all the
 * faces (with a margin for hair and chin), so a thumbnail never cuts one. The
 * window is the largest of the target's aspect ratio, centred on the faces and
 * kept inside the image. Without faces, libvips' attention strategy decides.
 */

/** A box as [x, y, width, height], fractions of the image's width and height. */
export type FractionBox = readonly [number, number, number, number];

export interface CropWindow {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Share of a face's size added on every side. */
const FACE_MARGIN = 0.25;

export function cropAroundFaces(
  image: { width: number; height: number },
  target: { width: number; height: number },
  faces: readonly FractionBox[],
): CropWindow | undefined {
  if (faces.length === 0) return undefined;
  const aspect = target.width / target.height;
  const width = Math.min(image.width, Math.round(image.height * aspect));
  const height = Math.min(image.height, Math.round(image.width / aspect));
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const [x, y, w, h] of faces) {
    x0 = Math.min(x0, (x - w * FACE_MARGIN) * image.width);
    y0 = Math.min(y0, (y - h * FACE_MARGIN) * image.height);
    x1 = Math.max(x1, (x + w * (1 + FACE_MARGIN)) * image.width);
    y1 = Math.max(y1, (y + h * (1 + FACE_MARGIN)) * image.height);
  }
  const clamp = (value: number, max: number) => Math.round(Math.min(Math.max(0, value), max));
  return {
    left: clamp((x0 + x1) / 2 - width / 2, image.width - width),
    top: clamp((y0 + y1) / 2 - height / 2, image.height - height),
    width,
    height,
  };
}
