/**
 * An alt text built only from what the analysis recorded, never from guesses.
 *
 * The rules, in order (each part is left out when the analysis has nothing for it):
 * 1. kind: `medium_detected` → "Photo" (photo), "Logo" (logo), "Graphic"
 *    (digital-or-flat-graphic, and the older drawing-or-flat-art still in
 *    stored rows), "Painting or drawing" (painting-or-drawing); `unknown`,
 *    another (e.g. the openai provider's finer vocabulary) or no medium → no
 *    kind word.
 * 2. what is in it: the labels of `detected_objects` scoring at least 0.5,
 *    each label once, best score first, at most 3, joined with ", " and
 *    " and " ("cat and couch"); when no object qualifies, `subject_matter`
 *    (the plain labels derived from the models, e.g. "animals") instead.
 *    No relations ("on a sofa"), counts or adjectives are added: the
 *    detector gives none.
 *    Parts 1 and 2 make the first sentence: "Photo: cat and couch." —
 *    or "Photo." / "Cat and couch." when only one of them is known.
 * 3. faces: `faces.count` > 0 → "1 face." / "3 faces.".
 * 4. text read (OCR): `detected_text.text`, whitespace collapsed, quotes
 *    kept as read, cut to 80 characters with "…" → "Text: 'OPEN'.".
 * Nothing known → "" (an empty alt, which is honest; the caller may replace it).
 */
import type { AnalysisRecord } from '../db/analysis-rows.js';

export type AltTextAnalysis = Pick<
  AnalysisRecord,
  'medium_detected' | 'subject_matter' | 'detected_objects' | 'faces' | 'detected_text'
>;

const KIND: Record<string, string> = {
  photo: 'Photo',
  logo: 'Logo',
  'digital-or-flat-graphic': 'Graphic',
  'painting-or-drawing': 'Painting or drawing',
  // Rows analysed before the split of drawing-or-flat-art (docs/analysis-medium.md).
  'drawing-or-flat-art': 'Graphic',
};
const MIN_OBJECT_SCORE = 0.5;
const MAX_OBJECTS = 3;
const MAX_TEXT_CHARS = 80;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Object labels scoring ≥ 0.5, each once, best first, at most three. */
function objectLabels(objects: unknown): string[] {
  if (!Array.isArray(objects)) return [];
  const best = new Map<string, number>();
  for (const object of objects) {
    if (!isRecord(object)) continue;
    const { label, score } = object;
    if (typeof label !== 'string' || label.trim() === '' || typeof score !== 'number') continue;
    if (score < MIN_OBJECT_SCORE) continue;
    const name = label.trim();
    best.set(name, Math.max(best.get(name) ?? 0, score));
  }
  return [...best.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, MAX_OBJECTS)
    .map(([name]) => name);
}

function joinWords(words: string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words.at(-1)!}`;
}

function faceCount(faces: unknown): number {
  if (!isRecord(faces)) return 0;
  const { count } = faces;
  return typeof count === 'number' && Number.isInteger(count) && count > 0 ? count : 0;
}

function textRead(detected: unknown): string {
  if (!isRecord(detected) || typeof detected.text !== 'string') return '';
  const text = detected.text.replace(/\s+/g, ' ').trim();
  return text.length > MAX_TEXT_CHARS ? `${text.slice(0, MAX_TEXT_CHARS - 1).trimEnd()}…` : text;
}

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export function altText(analysis: AltTextAnalysis | undefined): string {
  if (!analysis) return '';
  const medium = analysis.medium_detected;
  const kind = medium && Object.hasOwn(KIND, medium) ? KIND[medium] : undefined;
  const labels = objectLabels(analysis.detected_objects);
  const subject = labels.length > 0 ? joinWords(labels) : (analysis.subject_matter?.trim() ?? '');
  const sentences: string[] = [];
  if (kind && subject) sentences.push(`${kind}: ${subject}.`);
  else if (kind) sentences.push(`${kind}.`);
  else if (subject) sentences.push(`${capitalised(subject)}.`);
  const faces = faceCount(analysis.faces);
  if (faces > 0) sentences.push(faces === 1 ? '1 face.' : `${faces} faces.`);
  const text = textRead(analysis.detected_text);
  if (text) sentences.push(`Text: '${text}'.`);
  return sentences.join(' ');
}
