/**
 * The remote provider: posts a JPEG of the item (at most 1024 px, metadata
 * stripped) to a vision service and merges what it answers. The service is
 * the operator's own choice (ANALYSIS_REMOTE_URL), so it is the only address
 * contacted, redirects are not followed, and the answer is validated field by
 * field before anything from it is stored.
 *
 * Request:  POST {url}  Content-Type: image/jpeg  Authorization: Bearer {key}
 *           X-Media-Role: {role}
 * Answer:   { "version"?: string,
 *             "objects"?: [{ "label": string, "score": 0–1, "box"?: [x, y, w, h] (fractions) }],
 *             "faces"?: [{ "score": 0–1, "box": [x, y, w, h] (fractions) }],
 *             "text"?: string,
 *             "labels"?: { "medium"|"subject_matter"|"style": { "value": string, "confidence": 0–1 } },
 *             "moderation"?: { "flagged": boolean, "scores"?: { [name]: 0–1 } },
 *             "usage"?: { [name]: number | string } (the service's own figures, e.g. tokens:
 *             kept in the step's cost, not in the analysis) }
 */
import axios from 'axios';
import pRetry, { AbortError } from 'p-retry';
import { rawInput } from '../images/decode-once.js';
import type { AnalysisField, AnalysisInput, AnalysisProvider, ProviderReport } from './analysis-provider.js';

export interface RemoteProviderOptions {
  url: string;
  key: string | undefined;
  timeoutMs: number;
}

const MAX_ANSWER_BYTES = 1024 * 1024;
const LABEL_FIELDS: Record<string, AnalysisField> = {
  medium: 'medium_detected',
  subject_matter: 'subject_matter',
  style: 'style_classification',
};

class RemoteAnswerError extends Error {}

function isScore(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= 1;
}

function isBox(value: unknown): value is number[] {
  return Array.isArray(value) && value.length === 4 && value.every(isScore);
}

function requireThat(condition: boolean, problem: string): void {
  if (!condition) throw new RemoteAnswerError(`the remote analysis answer is invalid: ${problem}`);
}

type Fields = ProviderReport['fields'];
type Body = Record<string, unknown>;

function parseObjects(body: Body, fields: Fields): void {
  requireThat(Array.isArray(body.objects), 'objects must be an array');
  const objects = (body.objects as unknown[]).map((object, i) => {
    const o = object as Body;
    requireThat(
      typeof o?.label === 'string' && o.label !== '',
      `objects[${i}].label must be a non-empty string`,
    );
    requireThat(isScore(o.score), `objects[${i}].score must be a number 0–1`);
    requireThat(
      o.box === undefined || isBox(o.box),
      `objects[${i}].box must be four fractions [x, y, width, height]`,
    );
    return { label: o.label as string, score: o.score as number, ...(o.box ? { box: o.box } : {}) };
  });
  fields.detected_objects = { value: objects, confidence: Math.max(0, ...objects.map((o) => o.score)) };
}

function parseFaces(body: Body, fields: Fields): void {
  requireThat(Array.isArray(body.faces), 'faces must be an array');
  const boxes = (body.faces as unknown[]).map((face, i) => {
    const f = face as Body;
    requireThat(isScore(f?.score), `faces[${i}].score must be a number 0–1`);
    requireThat(isBox(f.box), `faces[${i}].box must be four fractions [x, y, width, height]`);
    return { score: f.score as number, box: f.box as number[] };
  });
  fields.faces = {
    value: { count: boxes.length, boxes },
    confidence: boxes.length ? Math.max(...boxes.map((b) => b.score)) : null,
  };
}

function parseText(body: Body, fields: Fields): void {
  requireThat(typeof body.text === 'string', 'text must be a string');
  fields.detected_text = { value: { text: body.text, words: [], language: null }, confidence: null };
}

function parseLabels(body: Body, fields: Fields): void {
  requireThat(typeof body.labels === 'object' && body.labels !== null, 'labels must be an object');
  for (const [name, label] of Object.entries(body.labels as Body)) {
    const field = LABEL_FIELDS[name];
    requireThat(field !== undefined, `labels.${name} is not one of ${Object.keys(LABEL_FIELDS).join(', ')}`);
    const l = label as Body;
    requireThat(
      typeof l?.value === 'string' && isScore(l.confidence),
      `labels.${name} must be { value: string, confidence: 0–1 }`,
    );
    fields[field!] = { value: l.value, confidence: l.confidence as number };
  }
}

function parseModeration(body: Body, fields: Fields): void {
  const m = body.moderation as Body;
  requireThat(typeof m?.flagged === 'boolean', 'moderation.flagged must be a boolean');
  const scores = m.scores ?? {};
  requireThat(
    typeof scores === 'object' && scores !== null && Object.values(scores).every(isScore),
    'moderation.scores must map names to numbers 0–1',
  );
  fields.moderation = { value: { flagged: m.flagged, scores }, confidence: null };
}

const SECTIONS: Record<string, (body: Body, fields: Fields) => void> = {
  objects: parseObjects,
  faces: parseFaces,
  text: parseText,
  labels: parseLabels,
  moderation: parseModeration,
};

/** Validates the answer's shape and turns it into fields; a wrong shape is an error naming the field. */
export function parseRemoteAnswer(answer: unknown): { version: string; fields: Fields } {
  requireThat(typeof answer === 'object' && answer !== null && !Array.isArray(answer), 'not a JSON object');
  const body = answer as Body;
  const fields: Fields = {};
  for (const [section, parse] of Object.entries(SECTIONS)) {
    if (body[section] !== undefined) parse(body, fields);
  }
  const version = typeof body.version === 'string' ? body.version.slice(0, 32) : 'unknown';
  return { version, fields };
}

/** The answer's `usage`, if it has one: only short scalar figures, at most 16, so a chatty service cannot bloat the timeline. */
function serviceUsage(answer: unknown): { service_usage?: Record<string, number | string> } {
  const usage = (answer as Body).usage;
  if (typeof usage !== 'object' || usage === null || Array.isArray(usage)) return {};
  const figures = Object.entries(usage as Body)
    .filter((entry): entry is [string, number | string] =>
      typeof entry[1] === 'number' ? Number.isFinite(entry[1]) : typeof entry[1] === 'string',
    )
    .slice(0, 16)
    .map(([name, value]): [string, number | string] => [
      name.slice(0, 64),
      typeof value === 'string' ? value.slice(0, 64) : value,
    ]);
  return figures.length ? { service_usage: Object.fromEntries(figures) } : {};
}

export function createRemoteProvider(options: RemoteProviderOptions): AnalysisProvider {
  const http = axios.create({
    timeout: options.timeoutMs,
    maxRedirects: 0,
    maxContentLength: MAX_ANSWER_BYTES,
    validateStatus: () => true,
    headers: {
      'User-Agent': 'media-worker',
      ...(options.key ? { Authorization: `Bearer ${options.key}` } : {}),
    },
  });
  return {
    name: 'remote',
    version: 'unknown',
    describe: () => [
      {
        task: 'whatever the service reports',
        model: `remote vision service at ${new URL(options.url).origin}`,
        package: 'axios',
        version: null,
        licence: "the service's own terms",
      },
    ],
    async analyse(input: AnalysisInput): Promise<ProviderReport> {
      const jpeg = await rawInput(input.image)
        .flatten({ background: '#ffffff' })
        .resize(1024, 1024, { fit: 'inside', withoutEnlargement: true })
        .jpeg({ quality: 85 })
        .toBuffer();
      let requests = 0;
      const answer = await pRetry(
        async () => {
          requests++;
          const response = await http.post(options.url, jpeg, {
            headers: { 'Content-Type': 'image/jpeg', 'X-Media-Role': input.role },
            responseType: 'json',
            ...(input.signal ? { signal: input.signal } : {}),
          });
          if (response.status >= 500 || response.status === 429) {
            throw new Error(`the remote analysis service answered ${response.status}`);
          }
          if (response.status !== 200) {
            throw new AbortError(`the remote analysis service answered ${response.status}`);
          }
          return response.data as unknown;
        },
        { retries: 2, minTimeout: 500, maxTimeout: 2000, ...(input.signal ? { signal: input.signal } : {}) },
      );
      const parsed = parseRemoteAnswer(answer);
      return {
        fields: parsed.fields,
        raw: answer,
        usedModels: Object.keys(parsed.fields).length > 0,
        version: parsed.version,
        usage: { request_bytes: jpeg.length, requests, ...serviceUsage(answer) },
      };
    },
    close: () => Promise.resolve(),
  };
}
