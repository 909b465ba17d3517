/**
 * Reading a Google Cloud Vision `images:annotate` answer into analysis
 * fields: objects with boxes, text with word boxes, dominant colours,
 * SafeSearch moderation, and the top label as the subject. Google's JSON
 * leaves out zero values (proto3), so a vertex without `x` is at x = 0.
 * Everything is checked and capped; a section that does not read is left
 * out, the others kept.
 */
import type { ProviderReport } from './analysis-provider.js';
import { dataText } from './provider-text.js';

export const GOOGLE_FEATURES = [
  { type: 'LABEL_DETECTION', maxResults: 10 },
  { type: 'OBJECT_LOCALIZATION', maxResults: 20 },
  { type: 'TEXT_DETECTION' },
  { type: 'IMAGE_PROPERTIES' },
  { type: 'SAFE_SEARCH_DETECTION' },
] as const;

/** Bumped whenever the features asked for change: cached answers of another version are not reused. */
export const GOOGLE_PROMPT_VERSION = 'features-v1';

type Fields = ProviderReport['fields'];
type Body = Record<string, unknown>;
type Box = [number, number, number, number];

const MAX_WORDS = 200;
const LIKELY = ['LIKELY', 'VERY_LIKELY'];

const isScore = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;
const list = (v: unknown): Body[] => (Array.isArray(v) ? (v as Body[]) : []);
const text = (v: unknown, max: number) => dataText(v, max);
const round = (n: number) => Number(n.toFixed(4));

/** [x, y, width, height] as fractions from polygon vertices, divided by `scale` (1 for normalized ones). */
function boxOf(vertices: unknown, scaleX: number, scaleY: number): Box | undefined {
  const points = list(vertices).map((v) => [Number(v.x ?? 0), Number(v.y ?? 0)] as const);
  if (points.length === 0 || points.some(([x, y]) => !Number.isFinite(x) || !Number.isFinite(y)))
    return undefined;
  const xs = points.map(([x]) => Math.min(1, Math.max(0, x / scaleX)));
  const ys = points.map(([, y]) => Math.min(1, Math.max(0, y / scaleY)));
  const [x0, y0] = [Math.min(...xs), Math.min(...ys)];
  return [round(x0), round(y0), round(Math.max(...xs) - x0), round(Math.max(...ys) - y0)];
}

function readObjects(answer: Body, fields: Fields): void {
  const objects = list(answer.localizedObjectAnnotations).flatMap((o) => {
    const label = text(o.name, 100);
    const box = boxOf((o.boundingPoly as Body | undefined)?.normalizedVertices, 1, 1);
    return label && isScore(o.score) && box ? [{ label, score: round(o.score), box }] : [];
  });
  if (answer.localizedObjectAnnotations !== undefined || answer.labelAnnotations !== undefined)
    fields.detected_objects = {
      value: objects,
      confidence: objects.length ? Math.max(...objects.map((o) => o.score)) : null,
    };
}

function readLabels(answer: Body, fields: Fields): void {
  const labels = list(answer.labelAnnotations).flatMap((l) => {
    const name = text(l.description, 100);
    return name && isScore(l.score) ? [{ name, score: l.score }] : [];
  });
  const top = labels[0];
  if (top) fields.subject_matter = { value: top.name.toLowerCase(), confidence: round(top.score) };
}

/** Word boxes are in pixels of the image sent: divided by its size to be fractions like every provider's. */
function readText(answer: Body, fields: Fields, sent: { width: number; height: number }): void {
  const annotations = list(answer.textAnnotations);
  if (answer.textAnnotations === undefined && answer.fullTextAnnotation === undefined) {
    fields.detected_text = { value: { text: '', words: [], language: null }, confidence: null };
    return;
  }
  const whole = annotations[0];
  const words = annotations.slice(1, MAX_WORDS + 1).flatMap((w) => {
    const word = text(w.description, 100);
    const box = boxOf((w.boundingPoly as Body | undefined)?.vertices, sent.width, sent.height);
    return word && box ? [{ text: word, confidence: null, box }] : [];
  });
  fields.detected_text = {
    value: { text: text(whole?.description, 2000) ?? '', words, language: text(whole?.locale, 16) ?? null },
    confidence: null,
  };
}

const hex = (n: unknown) =>
  Math.max(0, Math.min(255, Math.round(Number(n ?? 0))))
    .toString(16)
    .padStart(2, '0');

function readColours(answer: Body, fields: Fields): void {
  const colours = list(
    ((answer.imagePropertiesAnnotation as Body | undefined)?.dominantColors as Body | undefined)?.colors,
  )
    .filter((c) => isScore(c.score ?? 0) && typeof c.color === 'object' && c.color !== null)
    .sort((a, b) => Number(b.score ?? 0) - Number(a.score ?? 0))
    .slice(0, 6)
    .map((c) => {
      const { red, green, blue } = c.color as Body;
      return `#${hex(red)}${hex(green)}${hex(blue)}`.toUpperCase();
    });
  if (colours.length) fields.dominant_colors = { value: colours, confidence: null };
}

function readSafeSearch(answer: Body, fields: Fields): void {
  const safe = answer.safeSearchAnnotation as Body | undefined;
  if (typeof safe !== 'object' || safe === null) return;
  const likelihoods = Object.fromEntries(
    ['adult', 'racy', 'violence', 'medical', 'spoof'].map((name) => [
      name,
      text(safe[name], 16) ?? 'UNKNOWN',
    ]),
  );
  const flagged = LIKELY.includes(likelihoods.adult!);
  fields.moderation = { value: { likelihoods, flagged, model: 'Google SafeSearch' }, confidence: null };
}

/** The per-image error Google puts in responses[i].error (the call itself succeeded). */
export function imageError(answer: unknown): string | undefined {
  const error = ((answer as Body | null)?.responses as Body[] | undefined)?.[0]?.error as Body | undefined;
  return error ? (text(error.message, 200) ?? `code ${String(error.code)}`) : undefined;
}

export function googleFields(answer: unknown, sent: { width: number; height: number }): Fields {
  const first = ((answer as Body | null)?.responses as Body[] | undefined)?.[0];
  if (typeof first !== 'object' || first === null)
    throw new Error('the Google Vision answer has no responses[0]');
  const fields: Fields = {};
  readObjects(first, fields);
  readLabels(first, fields);
  readText(first, fields, sent);
  readColours(first, fields);
  readSafeSearch(first, fields);
  return fields;
}

/** Google's "bad key" is a 400 with reason API_KEY_INVALID, not a 401. */
export function isGoogleAuthFailure(status: number, body: unknown): boolean {
  if (status !== 400) return false;
  const details = list(((body as Body | null)?.error as Body | undefined)?.details);
  return details.some((d) => d.reason === 'API_KEY_INVALID');
}
