/**
 * One provider in its own process (so peak RSS is its own): load time, time
 * per image over the samples, RSS every 50 images and the live tfjs tensor
 * count, for `count` images. Prints one JSON line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createLocalProvider } from '../src/analysis/local-provider.js';
import { createModelsProvider } from '../src/analysis/models/models-provider.js';
import { analysisInputFor } from '../src/analysis/analysis-input.js';
import type { AnalysisInput, AnalysisProvider } from '../src/analysis/analysis-provider.js';
import { ImageMemoryBudget } from '../src/images/memory-budget.js';
import { silentLogger } from '../src/log.js';
import { BENCH_DIR } from './lib/report.js';

const [providerName = 'models', countArg = '1000'] = process.argv.slice(2);
const count = Number(countArg);
const SAMPLES = path.join(path.dirname(BENCH_DIR), 'samples/images');
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

const provider =
  providerName === 'local'
    ? createLocalProvider()
    : createModelsProvider({ moderationThreshold: 0.7, log: silentLogger() });
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
