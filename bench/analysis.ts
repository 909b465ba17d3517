/**
 * bench/analysis: per provider, model load time, time per image (median and
 * p95 over the samples, decoded as the analyse step decodes them) and peak RSS, each provider in its own
 * process; plus RSS growth between image 200 and the last (1,000 by default,
 * BENCH_ANALYSIS_IMAGES to change) and the live tensor count (a leak check).
 * The local provider is the baseline measured in the same run; the system
 * this replaces called remote vision services at 30–60 s per image.
 *
 * benchAnalysisMedium (`npm run bench -- analysis-medium`, or with all): the
 * medium classifier on the labelled set in bench/analysis-set, for both
 * providers, against the colour-only hint it replaced: precision and recall
 * per class, the confusion matrix, how many were `unknown`, and the
 * measured precision of each decision region (the classifier's confidences).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REGION_CONFIDENCE } from '../src/images/medium-classifier.js';
import { BENCH_DIR, markdownTable, median, round, writeResults } from './lib/report.js';

const SEED_SECONDS_PER_IMAGE = 30;

interface ChildResult {
  provider: string;
  count: number;
  coldMs: number;
  loadStatus: unknown;
  perImage: Record<string, number[]>;
  baseRssMb: number;
  rssAfterLoadMb: number;
  peakRssMb: number;
  rssAt200: number;
  rssAtEnd: number;
  rssEvery50: number[];
  tensors: number[];
}

function runChild<T = ChildResult>(...args: string[]): T {
  const stdout = execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(BENCH_DIR, 'analysis-child.ts'), ...args],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export function benchAnalysis(): Promise<void> {
  const count = Number(process.env.BENCH_ANALYSIS_IMAGES ?? 1000);
  const results = ['local', 'models'].map((provider) => runChild(provider, String(count)));
  const rows = results.map((r) => {
    const all = Object.values(r.perImage).flat();
    const medianMs = median(all);
    return {
      provider: r.provider,
      images: r.count,
      loadMs: round(r.coldMs - median(r.perImage[Object.keys(r.perImage)[0]!]!), 0),
      medianMs: round(medianMs, 0),
      p95Ms: round(percentile(all, 0.95), 0),
      perSampleMedianMs: Object.fromEntries(
        Object.entries(r.perImage).map(([name, v]) => [name, round(median(v), 0)]),
      ),
      vsSeed: round((SEED_SECONDS_PER_IMAGE * 1000) / medianMs, 0),
      peakRssMb: round(r.peakRssMb, 0),
      rssAfterLoadMb: round(r.rssAfterLoadMb, 0),
      rssAt200Mb: round(r.rssAt200, 0),
      rssAtEndMb: round(r.rssAtEnd, 0),
      growthMb: round(r.rssAtEnd - r.rssAt200, 0),
      tensorsFirstLast: r.tensors.length ? [r.tensors[0], r.tensors.at(-1)] : null,
      rssEvery50: r.rssEvery50.map((v) => round(v, 0)),
      loadStatus: r.loadStatus,
    };
  });
  const table = markdownTable(
    [
      'provider',
      'images',
      'load ms',
      'median ms/image',
      'p95 ms',
      '× faster than 30 s seed',
      'peak RSS MB',
      'RSS @200 MB',
      'RSS @end MB',
      'growth MB',
      'tensors first→last',
    ],
    rows.map((r) => [
      r.provider,
      r.images,
      r.loadMs,
      r.medianMs,
      r.p95Ms,
      r.vsSeed,
      r.peakRssMb,
      r.rssAt200Mb,
      r.rssAtEndMb,
      r.growthMb,
      r.tensorsFirstLast ? r.tensorsFirstLast.join('→') : '–',
    ]),
  );
  const perSample = markdownTable(
    ['provider', ...Object.keys(rows[0]!.perSampleMedianMs)],
    rows.map((r) => [r.provider, ...Object.values(r.perSampleMedianMs)]),
  );
  writeResults(
    'analysis',
    rows,
    `${table}\n\nMedian ms per sample image (decoded as the analyse step does):\n\n${perSample}`,
  );
  return Promise.resolve();
}

interface MediumRow {
  file: string;
  label: string;
  reported: string | null;
  medium: string;
  confidence: number;
  region: string;
  drawing: number | null;
  evidence: { concentration: number; distinctColours: number };
  measureMs: number;
}

const CLASSES = ['photo', 'painting-or-drawing', 'digital-or-flat-graphic'] as const;
const ART = 'painting-or-drawing ∪ digital-or-flat-graphic';

/**
 * The hint this classifier replaced (src/images/medium-hint.ts before issue 19), reproduced from the
 * same colour measurement so both are judged in one run: flat when concentration × (1 − distinct
 * colours / 1500) ≥ 0.35, then `drawing-or-flat-art` (or `logo`, never on this set), else `photo`.
 */
function colourOnlyHint({ concentration, distinctColours }: MediumRow['evidence']): string {
  const flatness = concentration * (1 - Math.min(1, distinctColours / 1500));
  return flatness >= 0.35 ? 'drawing-or-flat-art' : 'photo';
}

function precisionRecall(rows: { label: string; predicted: string }[], cls: string, labels: string[]) {
  const predicted = rows.filter((r) => r.predicted === cls);
  const labelled = rows.filter((r) => labels.includes(r.label));
  const correct = predicted.filter((r) => labels.includes(r.label)).length;
  return {
    class: cls,
    predicted: predicted.length,
    labelled: labelled.length,
    correct,
    precision: predicted.length ? round(correct / predicted.length) : null,
    recall: labelled.length ? round(correct / labelled.length) : null,
  };
}

function confusion(rows: { label: string; predicted: string }[], columns: readonly string[]) {
  return Object.fromEntries(
    CLASSES.map((label) => [
      label,
      Object.fromEntries(
        columns.map((column) => [
          column,
          rows.filter((r) => r.label === label && r.predicted === column).length,
        ]),
      ),
    ]),
  );
}

/** Each decision region's precision on the set, smoothed as the classifier's confidences are. */
function regions(rows: MediumRow[], withScore: boolean) {
  const answered = rows.filter((r) => r.medium !== 'unknown');
  const names = [...new Set(answered.map((r) => r.region))];
  return names.map((region) => {
    const decided = answered.filter((r) => r.region === region);
    const correct = decided.filter((r) => r.medium === r.label).length;
    const key = region === 'camera-texture' && !withScore ? 'camera-texture-without-score' : region;
    return {
      region,
      decided: decided.length,
      correct,
      precision: round(correct / decided.length),
      smoothed: round((correct + 1) / (decided.length + 2)),
      confidenceInCode: REGION_CONFIDENCE[key as keyof typeof REGION_CONFIDENCE] ?? null,
      wrong: decided.filter((r) => r.medium !== r.label).map((r) => `${r.file} (${r.label})`),
    };
  });
}

function evaluate(provider: string, rows: MediumRow[]) {
  const decisions = rows.map((r) => ({ label: r.label, predicted: r.medium }));
  const art = decisions.map((r) => ({
    label: r.label === 'photo' ? 'photo' : ART,
    predicted: r.predicted === 'photo' || r.predicted === 'unknown' ? r.predicted : ART,
  }));
  return {
    provider,
    images: rows.length,
    unknown: decisions.filter((r) => r.predicted === 'unknown').length,
    perClass: [
      ...CLASSES.map((cls) => precisionRecall(decisions, cls, [cls])),
      precisionRecall(art, ART, [ART]),
    ],
    confusion: confusion(decisions, [...CLASSES, 'unknown']),
    regions: regions(rows, provider === 'models'),
    measureMedianMs: round(median(rows.map((r) => r.measureMs)), 1),
    measureP95Ms: round(
      percentile(
        rows.map((r) => r.measureMs),
        0.95,
      ),
      1,
    ),
  };
}

function evaluateBaseline(rows: MediumRow[]) {
  const decisions = rows.map((r) => ({ label: r.label, predicted: colourOnlyHint(r.evidence) }));
  return {
    provider: 'colour-only hint (before)',
    images: rows.length,
    unknown: 0,
    perClass: [
      precisionRecall(decisions, 'photo', ['photo']),
      precisionRecall(decisions, 'drawing-or-flat-art', ['painting-or-drawing', 'digital-or-flat-graphic']),
    ],
    confusion: confusion(decisions, ['photo', 'drawing-or-flat-art']),
  };
}

function mediumMarkdown(
  evaluations: ReturnType<typeof evaluate>[],
  baseline: ReturnType<typeof evaluateBaseline>,
) {
  const perClass = markdownTable(
    ['classifier', 'class', 'predicted', 'labelled', 'correct', 'precision', 'recall'],
    [...evaluations, baseline].flatMap((e) =>
      e.perClass.map((c) => [
        e.provider,
        c.class,
        c.predicted,
        c.labelled,
        c.correct,
        c.precision ?? '–',
        c.recall ?? '–',
      ]),
    ),
  );
  const matrices = [...evaluations, baseline].map((e) => {
    const columns = Object.keys(Object.values(e.confusion)[0]!);
    const table = markdownTable(
      ['label ↓ / answer →', ...columns],
      Object.entries(e.confusion).map(([label, row]) => [label, ...columns.map((c) => row[c]!)]),
    );
    return `Confusion, ${e.provider} (${e.unknown} of ${e.images} unknown):\n\n${table}`;
  });
  const regionTable = markdownTable(
    [
      'provider',
      'region',
      'decided',
      'correct',
      'precision',
      '(correct+1)/(decided+2)',
      'confidence in code',
      'wrong',
    ],
    evaluations.flatMap((e) =>
      e.regions.map((r) => [
        e.provider,
        r.region,
        r.decided,
        r.correct,
        r.precision,
        r.smoothed,
        r.confidenceInCode ?? '–',
        r.wrong.join(', ') || '–',
      ]),
    ),
  );
  const timing = evaluations
    .map((e) => `${e.provider}: median ${e.measureMedianMs} ms, p95 ${e.measureP95Ms} ms`)
    .join('; ');
  return [
    `Medium on the labelled set (bench/analysis-set, ${evaluations[0]!.images} images):\n\n${perClass}`,
    ...matrices,
    `Decision regions (their smoothed precision is the confidence reported):\n\n${regionTable}`,
    `Colour + texture measurement per image: ${timing}.`,
  ].join('\n\n');
}

export function benchAnalysisMedium(): Promise<void> {
  const runs = ['local', 'models'].map((provider) =>
    runChild<{ provider: string; rows: MediumRow[] }>('medium', provider),
  );
  const evaluations = runs.map((run) => evaluate(run.provider, run.rows));
  const baseline = evaluateBaseline(runs[0]!.rows);
  writeResults(
    'analysis-medium',
    { evaluations, baseline, images: runs.map((run) => ({ provider: run.provider, rows: run.rows })) },
    mediumMarkdown(evaluations, baseline),
  );
  return Promise.resolve();
}
