/** Writes a benchmark's results as JSON + a markdown table (bench/results/<name>.{json,md}) and prints the table. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

export function markdownTable(header: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The load average (1, 5, 15 min) as the bench process started: how busy the machine was besides it. */
const LOAD_AT_START = os.loadavg().map((load) => Math.round(load * 100) / 100);

export function machine(): Record<string, unknown> {
  return {
    loadAverageAtStart: LOAD_AT_START,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
  };
}

export function writeResults(name: string, results: unknown, markdown: string): void {
  const dir = path.join(BENCH_DIR, 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, `${name}.json`),
    `${JSON.stringify({ machine: machine(), results }, null, 2)}\n`,
  );
  fs.writeFileSync(path.join(dir, `${name}.md`), `${markdown}\n`);
  console.log(markdown);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const round = (value: number, digits = 2) => Number(value.toFixed(digits));
