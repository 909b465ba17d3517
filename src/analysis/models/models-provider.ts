/**
 * The models provider: objects, faces and moderation from tfjs models in a
 * worker thread, text from tesseract.js in its own thread, and labels derived
 * from them. Models load on first use, once per process. A model that is not
 * installed or fails to load is reported once, with the reason, and its task
 * is left out; the other tasks (and providers) go on.
 */
import sharp from 'sharp';
import { colourStats } from '../../images/colour-analysis.js';
import { rawInput, type DecodedImage } from '../../images/decode-once.js';
import { mediumHint } from '../../images/medium-hint.js';
import type { Logger } from '../../log.js';
import { createThreadClient } from '../../threads/thread-client.js';
import type { AnalysisInput, AnalysisProvider, ModelDescription, ProviderReport } from '../provider.js';
import { refinedMedium, styleClassification, subjectMatter } from './derive-labels.js';
import { describeModels } from './model-packages.js';
import type { Box, ModelRequest, ModelResult, RgbPixels } from './model-protocol.js';
import { readText, stopTextReader, type ReadText } from './text-reader.js';

export interface ModelsProviderOptions {
  /** Moderation flags an image when porn + hentai probability reaches this. */
  moderationThreshold: number;
  log: Logger;
}

export const MODELS_PROVIDER_VERSION = '1';
const FACE_MIN_SCORE = 0.7;
const DETECT_PX = 640;

/** Boxes from the letterboxed square back to fractions of the image; boxes wholly in the padding are dropped. */
function unletterbox(result: ModelResult, image: { width: number; height: number }): ModelResult {
  const scale = DETECT_PX / Math.max(image.width, image.height);
  const sx = DETECT_PX / (image.width * scale);
  const sy = DETECT_PX / (image.height * scale);
  const map = <T extends { box: Box }>(items: T[] | undefined): T[] | undefined =>
    items
      ?.map((item) => {
        const [x, y, w, h] = item.box;
        const x0 = Math.max(0, x * sx);
        const y0 = Math.max(0, y * sy);
        const x1 = Math.min(1, (x + w) * sx);
        const y1 = Math.min(1, (y + h) * sy);
        const box = [x0, y0, x1 - x0, y1 - y0].map((v) => Number(v.toFixed(4))) as Box;
        return { ...item, box };
      })
      .filter((item) => item.box[2] > 0 && item.box[3] > 0);
  return { ...result, objects: map(result.objects), faces: map(result.faces) };
}

async function rgb(
  image: DecodedImage,
  width: number,
  height: number,
  fit: 'inside' | 'fill',
): Promise<RgbPixels> {
  let pipeline = rawInput(image).flatten({ background: '#ffffff' }).resize(width, height, { fit });
  if (fit === 'inside') {
    // Letterboxed to a square (content top-left): the detectors squash their input to a square, and a
    // squashed wide picture hides its faces. Boxes are mapped back by unletterbox().
    const scale = Math.min(width / image.width, height / image.height);
    const fitted = { width: Math.round(image.width * scale), height: Math.round(image.height * scale) };
    pipeline = sharp(await pipeline.removeAlpha().raw().toBuffer(), {
      raw: { ...fitted, channels: 3 },
    }).extend({
      right: width - fitted.width,
      bottom: height - fitted.height,
      background: '#808080',
    });
  }
  const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  // A fresh buffer: sharp's may share a pooled ArrayBuffer, which cannot be transferred.
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

export function createModelsProvider(options: ModelsProviderOptions): AnalysisProvider {
  const thread = createThreadClient<ModelRequest, ModelResult>(
    'models',
    (extension) => new URL(`./model-worker.${extension}`, import.meta.url),
  );
  const descriptions = describeModels();
  const available = (task: string) => !descriptions.find((d) => d.task.startsWith(task))?.unavailable;
  const warned = new Set<string>();
  /** A task that could not run: told to the caller in this report, and to the log once per process. */
  const problem = (problems: string[], key: string, message: string) => {
    problems.push(message);
    if (warned.has(key)) return;
    warned.add(key);
    options.log.warn({ task: key }, message);
  };

  async function runTfjsModels(image: DecodedImage, problems: string[]): Promise<ModelResult | undefined> {
    if (!available('objects') && !available('moderation')) return undefined;
    try {
      const detect = await rgb(image, DETECT_PX, DETECT_PX, 'inside');
      const classify = await rgb(image, 224, 224, 'fill');
      const result = await thread.call({ detect, classify }, [
        detect.data.buffer as ArrayBuffer,
        classify.data.buffer as ArrayBuffer,
      ]);
      for (const [task, outcome] of [
        ['objects and faces', result.status.detector],
        ['moderation', result.status.moderation],
      ] as const) {
        if (!outcome.loaded)
          problem(problems, task, `${task} model failed to load (${outcome.error}); analysing without it`);
      }
      return unletterbox(result, image);
    } catch (error) {
      problem(
        problems,
        'tfjs',
        `tfjs models unavailable (${(error as Error).message}); analysing without objects, faces and moderation`,
      );
      return undefined;
    }
  }

  async function runOcr(image: DecodedImage, problems: string[]): Promise<ReadText | undefined> {
    if (!available('text')) return undefined;
    try {
      return await readText(image);
    } catch (error) {
      problem(
        problems,
        'text',
        `text recognition failed (${(error as Error).message}); analysing without it`,
      );
      return undefined;
    }
  }

  return {
    name: 'models',
    version: MODELS_PROVIDER_VERSION,
    describe: (): ModelDescription[] => descriptions,
    async analyse(input: AnalysisInput): Promise<ProviderReport> {
      const { image, role } = input;
      const problems: string[] = [];
      const [models, text, hint, sample] = await Promise.all([
        runTfjsModels(image, problems),
        runOcr(image, problems),
        mediumHint(image, role === 'logo'),
        rawInput(image).resize(64, 64, { fit: 'inside' }).raw().toBuffer({ resolveWithObject: true }),
      ]);
      const report = reportFrom(
        models,
        text,
        hint,
        colourStats({ data: sample.data, channels: sample.info.channels }).meanSaturation,
        options.moderationThreshold,
      );
      return { ...report, raw: { ...(report.raw as object), problems } };
    },
    async close() {
      await Promise.all([thread.stop(), stopTextReader()]);
    },
  };
}

function reportFrom(
  models: ModelResult | undefined,
  text: ReadText | undefined,
  hint: Awaited<ReturnType<typeof mediumHint>>,
  meanSaturation: number,
  threshold: number,
): ProviderReport {
  const objects = models?.objects;
  // BlazeFace sees faces in logos and textures around 0.6; real faces (and animals' faces) score higher.
  const faces = models?.faces?.filter((face) => face.score >= FACE_MIN_SCORE);
  const scores = models?.moderation;
  const ranDetector = objects !== undefined;
  const words = text?.words.length ?? 0;
  const fields: ProviderReport['fields'] = {};
  if (ranDetector) {
    fields.detected_objects = { value: objects, confidence: maxScore(objects) };
    fields.faces = { value: { count: faces!.length, boxes: faces }, confidence: maxScore(faces!) };
  }
  if (text) {
    fields.detected_text = {
      value: text,
      confidence: words
        ? Number((text.words.reduce((s, w) => s + w.confidence, 0) / words).toFixed(3))
        : null,
    };
  }
  if (scores) {
    const unsafe = Number(((scores.porn ?? 0) + (scores.hentai ?? 0)).toFixed(4));
    fields.moderation = {
      value: { scores, unsafe, flagged: unsafe >= threshold, threshold, model: 'nsfwjs MobileNetV2' },
      confidence: Math.max(...Object.values(scores)),
    };
  }
  const ranAny = ranDetector || text !== undefined || scores !== undefined;
  if (ranAny) {
    fields.medium_detected = labelField(refinedMedium(hint, scores?.drawing));
    fields.subject_matter = labelField(subjectMatter(objects ?? [], faces ?? [], words, hint));
    fields.style_classification = labelField(
      styleClassification(objects ?? [], faces ?? [], words, hint, meanSaturation),
    );
  }
  return {
    fields,
    raw: { ...models, text, medium: hint },
    usedModels: ranAny,
  };
}

const labelField = (label: { value: string; confidence: number }) => ({
  value: label.value,
  confidence: label.confidence,
});
const maxScore = (list: readonly { score: number }[]) =>
  list.length ? Math.max(...list.map((item) => item.score)) : null;
