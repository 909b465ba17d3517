/**
 * The ops files against the real server: every metric name that a PromQL
 * expression of ops/prometheus/alerts.yml or ops/grafana/media-worker.json
 * uses is one that /metrics really exports, and promtool accepts the rules
 * and passes their unit tests.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../../src/http/server.js';
import { Metrics } from '../../src/metrics.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { addItems, makeWorker } from '../helpers/in-process-worker.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { serverStorage, testServerOptions } from '../helpers/server-storage.js';
import { trivialSteps } from '../helpers/trivial-steps.js';

const run = promisify(execFile);
const OPS = path.resolve(import.meta.dirname, '../../ops');
const ALERTS = path.join(OPS, 'prometheus/alerts.yml');
const ALERT_TESTS = path.join(OPS, 'prometheus/alerts.test.yml');
const DASHBOARD = path.join(OPS, 'grafana/media-worker.json');

/** PromQL words that look like identifiers but are no metric names. */
const KEYWORDS = new Set(
  ['and', 'or', 'unless', 'bool', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right'].concat([
    'offset',
    'atan2',
    'inf',
    'nan',
  ]),
);

/**
 * The metric names one PromQL expression selects. Strings, label matchers,
 * ranges, grouping label lists and Grafana variables are removed first; of the
 * identifiers left, those followed by `(` are functions or aggregations.
 */
function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ');
  const names = new Set<string>();
  for (const match of bare.matchAll(/(?<![\w:.])([a-zA-Z_:][\w:]*)(?=\s*([{[)(,]|$|\s|[-+*/%^=!<>]))/g)) {
    const [, name, next] = match;
    if (next === '(' || KEYWORDS.has(name!.toLowerCase())) continue;
    names.add(name!);
  }
  return [...names];
}

/** Metric names as Prometheus stores them: a histogram's _bucket/_sum/_count, a summary's _sum/_count. */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram') ['_bucket', '_sum', '_count'].forEach((s) => names.add(name! + s));
    if (type === 'summary') ['_sum', '_count'].forEach((s) => names.add(name! + s));
  }
  for (const [, name] of exposition.matchAll(/^([a-zA-Z_:][\w:]*)[{ ]/gm)) names.add(name!);
  return names;
}

interface Panel {
  title: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}
interface Dashboard {
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown; definition?: string }[] };
}

/**
 * Each alert's expr, read from the two forms alerts.yml uses (no YAML parser is a dependency):
 * `expr: …` on one line, or `expr: |` and the lines indented deeper than it.
 */
function alertExpressions(): Map<string, string> {
  const lines = fs.readFileSync(ALERTS, 'utf8').split('\n');
  const found = new Map<string, string>();
  let alert = '';
  lines.forEach((line, i) => {
    alert = /^\s*- alert:\s*(\S+)/.exec(line)?.[1] ?? alert;
    const expr = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!expr) return;
    const [, indent, value] = expr;
    if (value !== '|') return void found.set(`alert ${alert}`, value!.replace(/^'(.*)'$/, '$1'));
    const block = lines.slice(i + 1).findIndex((l) => l.trim() !== '' && !l.startsWith(`${indent}  `));
    found.set(`alert ${alert}`, lines.slice(i + 1, block < 0 ? undefined : i + 1 + block).join('\n'));
  });
  expect(found.size, 'an expr for every alert').toBe(lines.filter((l) => /^\s*- alert:/.test(l)).length);
  return found;
}

/** Every target of every panel (rows included), and the metric a label_values() variable reads. */
function dashboardExpressions(dashboard: Dashboard): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (panels: Panel[]) => {
    for (const panel of panels) {
      (panel.targets ?? []).forEach((t, i) => t.expr && found.set(`panel "${panel.title}" #${i}`, t.expr));
      visit(panel.panels ?? []);
    }
  };
  visit(dashboard.panels);
  for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
    const query = typeof variable.query === 'string' ? variable.query : (variable.definition ?? '');
    const metric = /label_values\(\s*([^,)]+)/.exec(query)?.[1];
    found.set(`variable $${variable.name}`, metric ?? query);
  }
  return found;
}

/** Runs promtool; without it, a warning outside CI (as the /metrics lint does) and a failure under CI=true. */
async function promtool(args: string[], input = ''): Promise<{ code: number; output: string } | undefined> {
  try {
    const running = run('promtool', args, { cwd: path.join(OPS, 'prometheus') });
    running.child.stdin?.end(input);
    const { stdout, stderr } = await running;
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    if (failed.code === 'ENOENT') {
      if (process.env.CI === 'true') throw new Error('promtool is missing (apt-get install prometheus)');
      console.warn('promtool not installed (apt-get install prometheus): rules not checked');
      return undefined;
    }
    return { code: Number(failed.code ?? 1), output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('ops files', () => {
  let t: TestDatabase;
  let dir: string;
  let server: FastifyInstance;
  let exposition: string;
  let exported: Set<string>;

  beforeAll(async () => {
    t = await createTestDatabase('sqlite');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-ops-'));
    const storage = new FsObjectStore(path.join(dir, 'storage'));
    fs.mkdirSync(storage.root, { recursive: true });
    const metrics = new Metrics();
    // Real work moves the labelled counters and the step histogram, so their samples are exported too.
    await addItems(t.db, 2);
    const steps = trivialSteps({ runLog: path.join(dir, 'run.log'), workerId: 'ops-worker' });
    await makeWorker(t.db, steps, {
      onStepFinished: metrics.onStepFinished,
      onClaimed: metrics.onClaimed,
      onItemFinished: metrics.onItemFinished,
    }).run();
    metrics.watchQueue(t.db, storage.root);
    metrics.watchHealth(t.db, {
      leaseMs: 120_000,
      diskAlertPercent: 80,
      mainApiAuthProblem: () => undefined,
    });
    server = createServer(testServerOptions(t.db, { ...serverStorage(storage), metrics }));
    const base = await server.listen({ host: '127.0.0.1', port: 0 });
    await (await fetch(`${base}/serve/999999`)).arrayBuffer();
    exposition = await (await fetch(`${base}/metrics`)).text();
    exported = exportedNames(exposition);
  });
  afterAll(async () => {
    await server.close();
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finds metric names in PromQL, and not functions, labels, keywords, durations or variables', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.95, sum by (le, step) (rate(a_bucket{instance=~"$instance",x="b c"}[$__rate_interval])))' +
          ' / on (instance) group_left (le) b_total offset 5m > bool 0.2 and ignoring(x) c unless d[5m:1m] or e',
      ).sort(),
    ).toEqual(['a_bucket', 'b_total', 'c', 'd', 'e']);
    expect(metricNamesIn('100 * (1 - free / size) >= on (instance) max by (instance) (limit)')).toEqual([
      'free',
      'size',
      'limit',
    ]);
  });

  it('the server exports what the rules and the dashboard expect, samples included', () => {
    expect(exported).toContain('media_worker_step_duration_seconds_bucket');
    expect(exported).toContain('media_worker_serve_requests_total');
    expect(exported).toContain('media_worker_process_resident_memory_bytes');
    expect(exported).not.toContain('media_worker_step_duration_seconds_total');
  });

  it('uses only exported metric names in every alert and every dashboard query', () => {
    const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as Dashboard;
    const expressions = new Map([...alertExpressions(), ...dashboardExpressions(dashboard)]);
    const missing: string[] = [];
    let referenced = 0;
    for (const [where, expr] of expressions) {
      const names = metricNamesIn(expr);
      expect(names, `${where} selects no metric: ${expr}`).not.toEqual([]);
      referenced += names.length;
      missing.push(...names.filter((n) => !exported.has(n)).map((n) => `${where}: ${n}`));
    }
    expect(missing).toEqual([]);
    expect(referenced).toBeGreaterThan(40);
  });

  it('is a dashboard Grafana imports: schemaVersion 39+, a Prometheus datasource variable', () => {
    const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as Dashboard;
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    );
  });

  it('passes promtool check rules and promtool test rules, and lints the scrape with the alerting gauges', async () => {
    const linted = await promtool(['check', 'metrics'], exposition);
    if (!linted) return;
    expect(linted.code, linted.output).toBe(0);
    expect(exposition).toMatch(/^media_worker_live_workers 0$/m);
    expect(exposition).toMatch(/^media_worker_disk_alert_percent 80$/m);
    const checked = await promtool(['check', 'rules', path.basename(ALERTS)]);
    expect(checked?.code, checked?.output).toBe(0);
    const tested = await promtool(['test', 'rules', path.basename(ALERT_TESTS)]);
    expect(tested?.code, tested?.output).toBe(0);
  });
});
