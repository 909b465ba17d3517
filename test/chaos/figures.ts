/**
 * Each scenario's figures (uploads, kills, restarts, lost, doubled, peak RSS,
 * …): one JSON line on the test output, and the latest line per scenario in
 * bench/results/chaos.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/processes.js';

/** Figures of another build (CHAOS_CLI) never overwrite this tree's. */
export const FIGURES_FILE = path.join(
  ROOT,
  process.env.CHAOS_CLI ? 'bench/results/chaos-other-build.json' : 'bench/results/chaos.json',
);

export function recordFigures(figures: { scenario: string } & Record<string, unknown>): void {
  const line = { ...figures, at: new Date().toISOString() };
  console.log(`CHAOS ${JSON.stringify(line)}`);
  let all: Record<string, unknown> = {};
  try {
    all = JSON.parse(fs.readFileSync(FIGURES_FILE, 'utf8')) as Record<string, unknown>;
  } catch {
    all = {};
  }
  all[figures.scenario] = line;
  fs.mkdirSync(path.dirname(FIGURES_FILE), { recursive: true });
  fs.writeFileSync(FIGURES_FILE, `${JSON.stringify(all, null, 2)}\n`);
}
