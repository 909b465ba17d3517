/**
 * /metrics against the database, with checks that stay sound across kills
 * and restarts: the queue gauges (computed from the database at scrape time)
 * must equal the database's own counts once the run is quiet; per-process
 * counters summed over the live processes can never exceed what the database
 * recorded (completion events, imported rows), and must equal it when no
 * process was restarted (exact: true).
 */
import type { Violation } from './invariants.js';
import type { Snapshot } from './snapshot.js';

export type Samples = Map<string, number>;

/** Prometheus text → "name{labels}" → value (labels as printed). */
export function parseMetrics(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\S+?(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
    if (match) samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

export async function scrapeMetrics(port: number): Promise<Samples> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (response.status !== 200) throw new Error(`/metrics on port ${port} answered ${response.status}`);
  return parseMetrics(await response.text());
}

function sumOf(scrapes: Samples[], key: string): number {
  return scrapes.reduce((total, samples) => total + (samples.get(key) ?? 0), 0);
}

export function checkMetrics(
  scrapes: Array<{ slot: string; samples: Samples }>,
  snapshot: Snapshot,
  exact: boolean,
): Violation[] {
  const violations: Violation[] = [];
  const add = (detail: string) => violations.push({ invariant: 'metrics', detail });
  if (scrapes.length === 0) add('no live process to scrape /metrics from');
  for (const { slot, samples } of scrapes) {
    const gauges = [...samples].filter(([key]) => key.startsWith('media_worker_queue_items{'));
    const fromMetrics: Record<string, number> = {};
    for (const [key, value] of gauges) fromMetrics[/status="([^"]*)"/.exec(key)![1]!] = value;
    for (const status of new Set([...Object.keys(fromMetrics), ...Object.keys(snapshot.countByStatus)])) {
      const metric = fromMetrics[status] ?? 0;
      const db = snapshot.countByStatus[status] ?? 0;
      if (metric !== db)
        add(`${slot}: media_worker_queue_items{status="${status}"} is ${metric}, the database has ${db}`);
    }
    const unfinished = ['pending', 'downloading', 'processing'].some(
      (s) => (snapshot.countByStatus[s] ?? 0) > 0,
    );
    const age = samples.get('media_worker_oldest_pending_age_seconds');
    if (!unfinished && age !== 0)
      add(`${slot}: oldest_pending_age_seconds is ${age}, but nothing is pending`);
  }
  const samples = scrapes.map((s) => s.samples);
  const completed = sumOf(samples, 'media_worker_items_finished_total{outcome="completed"}');
  const imported = sumOf(samples, 'media_worker_intake_imported_total');
  // An item completes again when a lost callback is re-sent: count completions, not completed items.
  const dbCompleted = [...snapshot.events.values()]
    .flat()
    .filter((e) => e.step === null && e.event === 'completed').length;
  const bound = (name: string, value: number, db: number, what: string) => {
    if (value > db)
      add(`${name} summed over live processes is ${value}, more than the ${db} ${what} in the database`);
    else if (exact && value !== db)
      add(
        `${name} summed over the processes is ${value}, the database has ${db} ${what} (no restarts: must be equal)`,
      );
  };
  bound('items_finished_total{outcome="completed"}', completed, dbCompleted, 'item completions recorded');
  bound('intake_imported_total', imported, snapshot.mediaCount, 'imported uploads');
  return violations;
}
