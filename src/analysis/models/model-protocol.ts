/** Messages between the models provider and its worker thread. */

/** Raw 8-bit RGB pixels. */
export interface RgbPixels {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface ModelRequest {
  /** For objects and faces: the image fitted inside 640 px. */
  detect: RgbPixels;
  /** For moderation: the image squashed to 224×224, as MobileNetV2 was trained. */
  classify: RgbPixels;
}

export type LoadOutcome = { loaded: true; ms: number } | { loaded: false; ms: number; error: string };

export interface ModelStatus {
  backendMs: number;
  detector: LoadOutcome;
  moderation: LoadOutcome;
}

/** A box as [x, y, width, height], each a fraction of the image's width or height. */
export type Box = [number, number, number, number];

export interface DetectedObject {
  label: string;
  score: number;
  box: Box;
}

export interface DetectedFace {
  score: number;
  box: Box;
}

export interface ModelResult {
  status: ModelStatus;
  objects?: DetectedObject[];
  faces?: DetectedFace[];
  /** nsfwjs class probabilities: drawing, hentai, neutral, porn, sexy. */
  moderation?: Record<string, number>;
  inferenceMs: number;
  /** Live tfjs tensors after the request: constant once loaded, or something leaks. */
  tensors: number;
}
