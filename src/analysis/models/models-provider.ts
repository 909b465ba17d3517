/**
 * The models provider: objects, faces and moderation from tfjs models in a
 * worker thread, text from tesseract.js in its own thread, and labels derived
 * from them. Models load on first use, once per process. A model that is not
 * installed or fails to load is reported once, with the reason, and its task
 * is left out; the other tasks (and providers) go on.
 */
import { colourStats } from '../../images/colour-analysis.js';
import { rawInput, type DecodedImage } from '../../images/decode-once.js';
import { mediumHint } from '../../images/medium-hint.js';
import type { Logger } from '../../log.js';
import { createThreadClient } from '../../threads/thread-client.js';
import type {
  AnalysisInput,
  AnalysisProvider,
  ModelDescription,
  ProviderReport,
} from '../analysis-provider.js';
import { refinedMedium, styleClassification, subjectMatter } from './derive-labels.js';
import { describeModels } from './model-packages.js';
import { DETECT_PX, rgb, unletterbox } from './model-inputs.js';
import type { ModelRequest, ModelResult } from './model-protocol.js';
import { readText, stopTextReader, type ReadText } from './text-reader.js';

export interface ModelsProviderOptions {
  /** Moderation flags an image when porn + hentai probability reaches this. */
  moderationThreshold: number;
  log: Logger;
}

export const MODELS_PROVIDER_VERSION = '1';
const FACE_MIN_SCORE = 0.7;
export function createModelsProvider(options: ModelsProviderOptions): AnalysisProvider {
  return new ModelsProvider(options);
}

class ModelsProvider implements AnalysisProvider {
  readonly name = 'models';
  readonly version = MODELS_PROVIDER_VERSION;
  private readonly thread = createThreadClient<ModelRequest, ModelResult>(
    'models',
    (extension) => new URL(`./model-worker.${extension}`, import.meta.url),
  );
  private readonly descriptions = describeModels();
  private readonly warned = new Set<string>();

  constructor(private readonly options: ModelsProviderOptions) {}

  describe(): ModelDescription[] {
    return this.descriptions;
  }

  async analyse(input: AnalysisInput): Promise<ProviderReport> {
    const { image, role } = input;
    const problems: string[] = [];
    const [models, text, hint, sample] = await Promise.all([
      this.runTfjsModels(image, problems),
      this.runOcr(image, problems),
      mediumHint(image, role === 'logo'),
      rawInput(image).resize(64, 64, { fit: 'inside' }).raw().toBuffer({ resolveWithObject: true }),
    ]);
    const saturation = colourStats({ data: sample.data, channels: sample.info.channels }).meanSaturation;
    const report = reportFrom(models, text, hint, saturation, this.options.moderationThreshold);
    return { ...report, raw: { ...(report.raw as object), problems } };
  }

  async close(): Promise<void> {
    await Promise.all([this.thread.stop(), stopTextReader()]);
  }

  private available(task: string): boolean {
    return !this.descriptions.find((d) => d.task.startsWith(task))?.unavailable;
  }

  /** A task that could not run: told to the caller in this report, and to the log once per process. */
  private problem(problems: string[], key: string, message: string): void {
    problems.push(message);
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.options.log.warn({ task: key }, message);
  }

  private async runTfjsModels(image: DecodedImage, problems: string[]): Promise<ModelResult | undefined> {
    if (!this.available('objects') && !this.available('moderation')) return undefined;
    try {
      const detect = await rgb(image, DETECT_PX, DETECT_PX, 'inside');
      const classify = await rgb(image, 224, 224, 'fill');
      const result = await this.thread.call({ detect, classify }, [
        detect.data.buffer as ArrayBuffer,
        classify.data.buffer as ArrayBuffer,
      ]);
      for (const [task, outcome] of [
        ['objects and faces', result.status.detector],
        ['moderation', result.status.moderation],
      ] as const) {
        if (!outcome.loaded) {
          this.problem(
            problems,
            task,
            `${task} model failed to load (${outcome.error}); analysing without it`,
          );
        }
      }
      return unletterbox(result, image);
    } catch (error) {
      const reason = (error as Error).message;
      this.problem(
        problems,
        'tfjs',
        `tfjs models unavailable (${reason}); analysing without objects, faces and moderation`,
      );
      return undefined;
    }
  }

  private async runOcr(image: DecodedImage, problems: string[]): Promise<ReadText | undefined> {
    if (!this.available('text')) return undefined;
    try {
      return await readText(image);
    } catch (error) {
      this.problem(
        problems,
        'text',
        `text recognition failed (${(error as Error).message}); analysing without it`,
      );
      return undefined;
    }
  }
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
  // The pixel evidence re-classified with the drawing score; subject and style follow that medium.
  const medium = refinedMedium(hint, scores?.drawing);
  if (ranAny) {
    fields.medium_detected = { value: medium.value, confidence: medium.confidence };
    fields.subject_matter = labelField(subjectMatter(objects ?? [], faces ?? [], words, medium));
    fields.style_classification = labelField(
      styleClassification(objects ?? [], faces ?? [], words, medium, meanSaturation),
    );
  }
  return {
    fields,
    raw: { ...models, text, medium },
    usedModels: ranAny,
  };
}

const labelField = (label: { value: string; confidence: number }) => ({
  value: label.value,
  confidence: label.confidence,
});
const maxScore = (list: readonly { score: number }[]) =>
  list.length ? Math.max(...list.map((item) => item.score)) : null;
