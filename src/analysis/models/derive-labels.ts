/**
 * Plain labels from what the models saw, each with a confidence: the subject
 * (people, animals, food & drink, …), a descriptive style (photograph,
 * portrait photograph, flat graphic, typographic, …) and the medium. Honest
 * descriptions of the detections and colour statistics; nothing here claims
 * an art-historical style it cannot see.
 */
import { classifyMedium } from '../../images/medium-classifier.js';
import { hintFor, type MediumHint } from '../../images/medium-hint.js';
import type { DetectedFace, DetectedObject } from './model-protocol.js';

export interface Label {
  value: string;
  confidence: number;
}

const SUBJECT_OF: Record<string, string> = Object.fromEntries(
  [
    ['people', ['person']],
    ['animals', ['bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe']],
    [
      'food & drink',
      [
        'bottle',
        'wine glass',
        'cup',
        'fork',
        'knife',
        'spoon',
        'bowl',
        'banana',
        'apple',
        'sandwich',
        'orange',
        'broccoli',
        'carrot',
        'hot dog',
        'pizza',
        'donut',
        'cake',
      ],
    ],
    ['vehicles', ['bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat']],
    ['interior', ['chair', 'couch', 'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'vase', 'clock']],
    ['street', ['traffic light', 'fire hydrant', 'stop sign', 'parking meter', 'bench']],
  ].flatMap(([subject, labels]) => (labels as string[]).map((label) => [label, subject as string])),
);

const round = (value: number) => Number(Math.min(1, value).toFixed(2));
const area = (box: readonly number[]) => box[2]! * box[3]!;

/** A face covering this share of the frame makes a portrait. */
const PORTRAIT_FACE_AREA = 0.04;

export function subjectMatter(
  objects: readonly DetectedObject[],
  faces: readonly DetectedFace[],
  words: number,
  medium: MediumHint,
): Label {
  if (medium.medium === 'digital-or-flat-graphic') {
    // A detector trained on photos names shapes in flat art at random ("kite"): only text counts there.
    return { value: words > 0 ? 'graphic, text' : 'graphic', confidence: round(medium.confidence) };
  }
  const scores = new Map<string, number>();
  for (const object of objects) {
    const subject = SUBJECT_OF[object.label] ?? 'objects';
    scores.set(subject, Math.max(scores.get(subject) ?? 0, object.score));
  }
  const bigFace = faces.find((face) => area(face.box) >= PORTRAIT_FACE_AREA);
  if (bigFace && !scores.has('animals'))
    scores.set('people', Math.max(scores.get('people') ?? 0, bigFace.score));
  if (words > 0) scores.set('text', Math.min(1, 0.5 + 0.1 * words));
  const ranked = [...scores].sort((a, b) => b[1] - a[1]);
  if (ranked.length === 0) return { value: 'scene', confidence: 0.3 };
  return {
    value: ranked
      .slice(0, 3)
      .map(([subject]) => subject)
      .join(', '),
    confidence: round(ranked[0]![1]),
  };
}

export function styleClassification(
  objects: readonly DetectedObject[],
  faces: readonly DetectedFace[],
  words: number,
  medium: MediumHint,
  meanSaturation: number,
): Label {
  if (medium.medium === 'digital-or-flat-graphic') {
    return words > 0
      ? { value: 'typographic graphic', confidence: round(medium.confidence * 0.9) }
      : { value: 'flat graphic', confidence: round(medium.confidence) };
  }
  // Only a photo gets a photographic style; nothing finer is measurable for art or an unknown medium.
  if (medium.medium === 'painting-or-drawing')
    return { value: 'painting or drawing', confidence: medium.confidence };
  if (medium.medium === 'unknown') return { value: 'unknown', confidence: 0 };
  const face = faces.find((candidate) => area(candidate.box) >= PORTRAIT_FACE_AREA);
  const monochrome = meanSaturation < 0.08;
  const prefix = monochrome ? 'monochrome ' : '';
  if (face && !objects.some((o) => SUBJECT_OF[o.label] === 'animals')) {
    return { value: `${prefix}portrait photograph`, confidence: round(face.score * medium.confidence) };
  }
  const closeUp = objects.find((object) => area(object.box) >= 0.35);
  if (closeUp)
    return { value: `${prefix}close-up photograph`, confidence: round(closeUp.score * medium.confidence) };
  return { value: `${prefix}photograph`, confidence: round(medium.confidence) };
}

/** The pixel hint re-classified with the moderation model's drawing score (when it ran). */
export function refinedMedium(hint: MediumHint, drawing: number | undefined): MediumHint {
  if (drawing === undefined) return hint;
  return hintFor(classifyMedium(hint.evidence, drawing), hint.evidence, hint.logoLike);
}
