/**
 * bench/serve: cached /serve hits on the real daemon (`run --no-work`) —
 * explicit format, negotiated, and 304 revalidations, answered by the hot
 * path from memory; the same hit through the route alone
 * (SERVE_MEMORY_CACHE_MB=0) — against a minimal node
 * static server and nginx (when installed) serving the same file in the same
 * run, 32 connections, interleaved rounds. The load comes from wrk (a C
 * client, `-t1 -c32`) when it is installed, else from autocannon (a node
 * client that costs about as much CPU as the server it measures: on 2 cores
 * it, not the server, limits the figure); the report names the client.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { freePort } from '../test/helpers/processes.js';
import { processedFixture } from './lib/fixture-item.js';
import { hasWrk, runWrk } from './lib/wrk.js';
import { BENCH_DIR, markdownTable, median, round, writeResults } from './lib/report.js';

const ROOT = path.dirname(BENCH_DIR);
const ROUNDS = 3;
const DURATION_S = 5;

async function waitForHttp(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (
      await fetch(url).then(
        (r) => r.status < 500,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} did not answer`);
}

function staticServerScript(file: string, port: number): string {
  return `const http=require('http'),fs=require('fs');const size=fs.statSync(${JSON.stringify(file)}).size;
http.createServer((req,res)=>{res.writeHead(200,{'content-type':'image/webp','content-length':size});fs.createReadStream(${JSON.stringify(file)}).pipe(res);}).listen(${port},'127.0.0.1');`;
}

function startNginx(dir: string, file: string, port: number): ChildProcess | undefined {
  if (spawnSync('sh', ['-c', 'command -v nginx']).status !== 0) return undefined;
  // nginx workers run unprivileged: the (0700) temp directory must be traversable.
  fs.chmodSync(dir, 0o755);
  const root = path.join(dir, 'nginx-root');
  fs.mkdirSync(path.join(dir, 'nginx-tmp'), { recursive: true });
  fs.mkdirSync(root, { recursive: true });
  fs.copyFileSync(file, path.join(root, 'grid.webp'));
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/nginx-error.log;
events { worker_connections 1024; }
http { access_log off; sendfile on; types { image/webp webp; } client_body_temp_path ${dir}/nginx-tmp; proxy_temp_path ${dir}/nginx-tmp; fastcgi_temp_path ${dir}/nginx-tmp; uwsgi_temp_path ${dir}/nginx-tmp; scgi_temp_path ${dir}/nginx-tmp;
  server { listen 127.0.0.1:${port}; root ${root}; location / { add_header Cache-Control "public, max-age=31536000, immutable"; } } }`,
  );
  return spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' });
}

interface Scenario {
  name: string;
  url: string;
  headers?: Record<string, string>;
}

const CLIENT = hasWrk() ? 'wrk -t1 -c32' : 'autocannon (node, 32 connections; install wrk for a C client)';

async function load(scenario: Scenario): Promise<{ rps: number; p50: number; p99: number; non2xx: number }> {
  if (hasWrk()) {
    const url = new URL(scenario.url);
    const result = await runWrk({
      origin: url.origin,
      paths: [url.pathname + url.search],
      connections: 32,
      durationSeconds: DURATION_S,
      threads: 1,
      headers: scenario.headers ?? {},
    });
    return {
      rps: result.requestsPerSecond,
      p50: round(result.p50Ms),
      p99: round(result.p99Ms),
      non2xx: result.errorStatus + result.socketErrors,
    };
  }
  const result = await autocannon({
    url: scenario.url,
    connections: 32,
    duration: DURATION_S,
    headers: scenario.headers ?? {},
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
  };
}

export async function benchServe(): Promise<void> {
  const fixture = await processedFixture(path.join(ROOT, 'samples/images/cat-chelsea.png'));
  const [ours, routeOnly, plain, nginxPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const daemon = (port: number, env: Record<string, string> = {}) =>
    spawn(
      process.execPath,
      [path.join(ROOT, 'bin/media-worker'), 'run', '--no-work', '--http-port', String(port)],
      {
        env: { ...process.env, ...fixture.env, LOG_LEVEL: 'warn', ...env },
        stdio: 'ignore',
      },
    );
  const children: ChildProcess[] = [
    daemon(ours),
    // Without the memory cache every hit goes through fastify's /serve route and a file read.
    daemon(routeOnly, { SERVE_MEMORY_CACHE_MB: '0' }),
    spawn(process.execPath, ['-e', staticServerScript(fixture.gridWebp.path, plain)], { stdio: 'ignore' }),
  ];
  const nginx = startNginx(fixture.dir, fixture.gridWebp.path, nginxPort);
  if (nginx) children.push(nginx);
  try {
    const serve = `http://127.0.0.1:${ours}/serve/${fixture.mediaId}?size=grid`;
    const scenarios: Scenario[] = [
      { name: 'media-worker /serve, explicit format', url: `${serve}&format=webp` },
      { name: 'media-worker /serve, negotiated (Accept)', url: serve, headers: { accept: 'image/webp,*/*' } },
      {
        name: 'media-worker /serve, 304 revalidation',
        url: `${serve}&format=webp`,
        headers: { 'if-none-match': fixture.gridWebp.etag },
      },
      {
        name: 'media-worker /serve, SERVE_MEMORY_CACHE_MB=0 (route + file read)',
        url: `http://127.0.0.1:${routeOnly}/serve/${fixture.mediaId}?size=grid&format=webp`,
      },
      { name: 'node http + createReadStream', url: `http://127.0.0.1:${plain}/grid.webp` },
      ...(nginx
        ? [{ name: 'nginx (sendfile, 1 worker)', url: `http://127.0.0.1:${nginxPort}/grid.webp` }]
        : []),
    ];
    for (const s of scenarios) await waitForHttp(s.url);
    const runs: Record<string, Array<Awaited<ReturnType<typeof load>>>> = {};
    for (let round = 0; round < ROUNDS; round++)
      for (const s of scenarios) (runs[s.name] ??= []).push(await load(s));
    const medianRps = (name: string) => median(runs[name]!.map((r) => r.rps));
    const nodeRps = medianRps('node http + createReadStream');
    const nginxRps = nginx ? medianRps('nginx (sendfile, 1 worker)') : undefined;
    const rows = scenarios.map((s) => ({
      scenario: s.name,
      requestsPerSecond: round(medianRps(s.name), 0),
      p50Ms: median(runs[s.name]!.map((r) => r.p50)),
      p99Ms: median(runs[s.name]!.map((r) => r.p99)),
      vsNodeStatic: round(medianRps(s.name) / nodeRps),
      vsNginx: nginxRps ? round(medianRps(s.name) / nginxRps) : null,
      non2xx: runs[s.name]!.reduce((n, r) => n + r.non2xx, 0),
    }));
    const table = markdownTable(
      ['scenario', 'req/s (median)', 'p50 ms', 'p99 ms', '× node static', '× nginx', 'non-2xx'],
      rows.map((r) => [
        r.scenario,
        r.requestsPerSecond,
        r.p50Ms,
        r.p99Ms,
        r.vsNodeStatic,
        r.vsNginx ?? '-',
        r.non2xx,
      ]),
    );
    writeResults(
      'serve',
      {
        client: CLIENT,
        fileBytes: fixture.gridWebp.bytes,
        connections: 32,
        durationSeconds: DURATION_S,
        rounds: ROUNDS,
        rows,
      },
      `## serve (${fixture.gridWebp.bytes}-byte 500×500 WebP, load from ${CLIENT}, ${ROUNDS}×${DURATION_S}s interleaved)\n\n${table}`,
    );
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await fixture.db.destroy();
  }
}
