/**
 * One provider in its own process (so peak RSS is its own): load time, time
 * per image over the samples, RSS every 50 images and the live tfjs tensor
 * count, for `count` images. Prints one JSON line.
 *
 * `analysis-child.ts medium <provider>`: instead, the provider's medium for
 * every image of the labelled set (bench/analysis-set/labels.json), with the
 * evidence it decided on and the time the measurement took.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createLocalProvider } from '../src/analysis/local-provider.js';
import { createModelsProvider } from '../src/analysis/models/models-provider.js';
import { analysisInputFor } from '../src/analysis/analysis-input.js';
import type { AnalysisInput, AnalysisProvider } from '../src/analysis/analysis-provider.js';
import { ImageMemoryBudget } from '../src/images/memory-budget.js';
import { silentLogger } from '../src/log.js';
import { measureMedium, type MediumHint } from '../src/images/medium-hint.js';
import { BENCH_DIR } from './lib/report.js';

const [mode = 'models', ...rest] = process.argv.slice(2);
const [providerName, countArg] = mode === 'medium' ? [rest[0] ?? 'models', '0'] : [mode, rest[0] ?? '1000'];
const count = Number(countArg);
const SAMPLES = path.join(path.dirname(BENCH_DIR), 'samples/images');
const LABELLED_SET = path.join(BENCH_DIR, 'analysis-set');
/** The analyse step's decode: the default pixel limit and memory budget. */
const LIMITS = { maxInputPixels: 100_000_000, memory: new ImageMemoryBudget(128) };

interface Item {
  name: string;
  input: AnalysisInput;
}

async function items(): Promise<Item[]> {
  const names = fs.readdirSync(SAMPLES).filter((name) => /\.(png|jpe?g)$/.test(name));
  return Promise.all(
    names.map(async (name) => {
      const role = name.includes('logo') ? 'logo' : 'product';
      return { name, input: await analysisInputFor(path.join(SAMPLES, name), role, LIMITS) };
    }),
  );
}

function analyse(provider: AnalysisProvider, item: Item) {
  return provider.analyse(item.input);
}

const rssMb = () => process.memoryUsage().rss / 2 ** 20;

interface Labelled {
  file: string;
  label: string;
}

/** Per labelled image: the reported medium, the decision behind it, and ms for the pixel measurement alone. */
async function mediumSet(provider: AnalysisProvider) {
  const labels = JSON.parse(fs.readFileSync(path.join(LABELLED_SET, 'labels.json'), 'utf8')) as Labelled[];
  const rows = [];
  for (const { file, label } of labels) {
    const input = await analysisInputFor(path.join(LABELLED_SET, file), 'product', LIMITS);
    const started = performance.now();
    await measureMedium(input.image);
    const measureMs = performance.now() - started;
    const report = await provider.analyse(input);
    const hint = (report.raw as { medium: MediumHint }).medium;
    const scores = (report.fields.moderation?.value as { scores?: Record<string, number> } | undefined)
      ?.scores;
    rows.push({
      file,
      label,
      reported: report.fields.medium_detected?.value ?? null,
      medium: hint.medium,
      confidence: hint.confidence,
      region: hint.region,
      drawing: scores?.drawing ?? null,
      evidence: hint.evidence,
      measureMs,
    });
  }
  return rows;
}

const provider =
  providerName === 'local'
    ? createLocalProvider()
    : createModelsProvider({ moderationThreshold: 0.7, log: silentLogger() });
if (mode === 'medium') {
  const rows = await mediumSet(provider);
  await provider.close();
  console.log(JSON.stringify({ provider: providerName, rows }));
  process.exit(0);
}
const inputs = await items();
const baseRssMb = rssMb();
const coldStart = performance.now();
const first = await analyse(provider, inputs[0]!);
const coldMs = performance.now() - coldStart;
const rssAfterLoadMb = rssMb();
const perImage: Record<string, number[]> = {};
const rssEvery50: number[] = [];
const tensors: number[] = [];
let rssAt200 = 0;
for (let i = 0; i < count; i++) {
  const item = inputs[i % inputs.length]!;
  const started = performance.now();
  const report = await analyse(provider, item);
  (perImage[item.name] ??= []).push(performance.now() - started);
  const raw = report.raw as { tensors?: number };
  if ((i + 1) % 50 === 0) {
    rssEvery50.push(rssMb());
    if (raw.tensors !== undefined) tensors.push(raw.tensors);
  }
  if (i + 1 === 200) rssAt200 = rssMb();
}
const rssAtEnd = rssMb();
await provider.close();
console.log(
  JSON.stringify({
    provider: providerName,
    count,
    coldMs,
    loadStatus: (first.raw as { status?: unknown }).status ?? null,
    perImage,
    baseRssMb,
    rssAfterLoadMb,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    rssAt200,
    rssAtEnd,
    rssEvery50,
    tensors,
  }),
);
