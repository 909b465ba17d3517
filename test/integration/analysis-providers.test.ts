/**
 * Providers through the real analyse step and worker loop: a remote vision
 * service (a real HTTP server on 127.0.0.1) merged over the local provider,
 * and analysis that degrades, never fails the upload, when a provider breaks.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisProvider, ProviderReport } from '../../src/analysis/analysis-provider.js';
import { loadConfig } from '../../src/config.js';
import { findAnalysis } from '../../src/db/media-outputs.js';
import { parseJson } from '../../src/db/row-values.js';
import { createImageRuntime } from '../../src/images/image-runtime.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import { buildPipeline } from '../../src/pipeline.js';
import { buildCompleteBody } from '../../src/steps/callback-body.js';
import { findChecklist, findMedia } from '../../src/db/records.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { SAMPLE } from '../helpers/image-fixtures.js';
import { makeWorker } from '../helpers/in-process-worker.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { withPipeline } from '../helpers/pipeline.js';

interface Received {
  authorization: string | undefined;
  contentType: string | undefined;
  role: string | undefined;
  body: Buffer;
}

/** A vision service: answers per the queue of modes, then with a good answer. */
function startVisionService(modes: string[]) {
  const received: Received[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        authorization: request.headers.authorization,
        contentType: request.headers['content-type'],
        role: request.headers['x-media-role'] as string | undefined,
        body: Buffer.concat(chunks),
      });
      const mode = modes.shift() ?? 'good';
      if (mode === 'error') return response.writeHead(500).end('busy');
      response.writeHead(200, { 'Content-Type': 'application/json' });
      if (mode === 'malformed')
        return response.end(JSON.stringify({ objects: [{ label: 'cat', score: 7 }] }));
      response.end(
        JSON.stringify({
          version: 'vision-7',
          objects: [{ label: 'cat', score: 0.97, box: [0.1, 0.1, 0.6, 0.8] }],
          labels: {
            medium: { value: 'photo', confidence: 0.99 },
            subject_matter: { value: 'a cat', confidence: 0.9 },
          },
          moderation: { flagged: false, scores: { adult: 0.01 } },
        }),
      );
    });
  });
  return new Promise<{ url: string; received: Received[]; close: () => Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/vision`,
        received,
        close: () => new Promise((done) => server.close(() => done())),
      }),
    ),
  );
}

describe('analysis providers in the pipeline', () => {
  let t: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    t = await createTestDatabase('sqlite');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-providers-'));
  });
  afterAll(async () => {
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function process(env: Record<string, string>, file: string) {
    const config = loadConfig({ DATABASE_URL: t.url, STORAGE_DIR: path.join(dir, 'storage'), ...env });
    const [id] = await ingestFiles(t.db, [file], { userId: 9, role: 'product', isTestData: true });
    await withPipeline(config, t.db, new FsObjectStore(config.storageDir), (steps) =>
      makeWorker(t.db, steps).run(),
    );
    return {
      id: id!,
      analysis: await findAnalysis(t.db, id!),
      checklist: await findChecklist(t.db, id!),
      media: await findMedia(t.db, id!),
    };
  }

  it('merges a remote service over the local provider, after one retry of a 500', async () => {
    const vision = await startVisionService(['error']);
    try {
      const { id, analysis } = await process(
        { ANALYSIS_PROVIDERS: 'local,remote', ANALYSIS_REMOTE_URL: vision.url, ANALYSIS_REMOTE_KEY: 'k-123' },
        SAMPLE('cat-chelsea.png'),
      );
      expect(vision.received).toHaveLength(2);
      const sent = vision.received[1]!;
      expect(sent).toMatchObject({
        authorization: 'Bearer k-123',
        contentType: 'image/jpeg',
        role: 'product',
      });
      const posted = await sharp(sent.body).metadata();
      expect(posted).toMatchObject({ format: 'jpeg', width: 451, height: 300 });
      expect(posted.exif).toBeUndefined();

      expect(analysis).toMatchObject({
        medium_detected: 'photo',
        subject_matter: 'a cat',
        provider: 'local,remote',
      });
      expect(Boolean(analysis!.ai_enhanced)).toBe(true);
      expect(analysis!.quality_score).toEqual(expect.any(Number));
      expect(parseJson(analysis!.detected_objects)).toEqual([
        { label: 'cat', score: 0.97, box: [0.1, 0.1, 0.6, 0.8] },
      ]);
      expect(parseJson(analysis!.field_sources)).toMatchObject({
        subject_matter: { provider: 'remote', version: 'vision-7', confidence: 0.9 },
        quality_score: { provider: 'local' },
      });
      const body = await buildCompleteBody(t.db, (await findMedia(t.db, id))!, 'https://media.example.org');
      expect(body).toMatchObject({
        ai_enhanced: true,
        ai_analysis: { subject_matter: 'a cat', flagged: false },
      });
    } finally {
      await vision.close();
    }
  }, 60_000);

  it('goes on with the local provider when the remote answer is malformed: delivered, not ai_enhanced', async () => {
    const vision = await startVisionService(['malformed']);
    try {
      const { analysis, checklist, media } = await process(
        { ANALYSIS_PROVIDERS: 'local,remote', ANALYSIS_REMOTE_URL: vision.url },
        SAMPLE('coffee-cup.png'),
      );
      expect(media!.status).toBe('completed');
      expect(checklist).toMatchObject({ ai_visual_analysis: 'completed', resize_optimize: 'completed' });
      expect(analysis).toMatchObject({ provider: 'local', detected_objects: null });
      expect(Boolean(analysis!.ai_enhanced)).toBe(false);
    } finally {
      await vision.close();
    }
  }, 60_000);

  it('skips analysis, and still delivers, when no provider can answer', async () => {
    const vision = await startVisionService(['error', 'error', 'error']);
    try {
      const { analysis, checklist, media } = await process(
        { ANALYSIS_PROVIDERS: 'remote', ANALYSIS_REMOTE_URL: vision.url },
        SAMPLE('hubble-deep-field.jpg'),
      );
      expect(analysis).toBeUndefined();
      expect(media!.status).toBe('completed');
      expect(checklist).toMatchObject({ ai_visual_analysis: 'skipped', resize_optimize: 'completed' });
    } finally {
      await vision.close();
    }
  }, 60_000);

  it('asks every provider at once, and merges their answers in the configured order', async () => {
    // Each provider answers only once the other has been asked: one after the other, the first
    // would wait in vain for 10 s and fail, and the merge would lose its fields.
    const deferred = () => {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      return { promise, resolve };
    };
    const asked = { remote: deferred(), openai: deferred() };
    const provider = (name: 'remote' | 'openai', other: 'remote' | 'openai', subject: string) =>
      ({
        name,
        version: `${name}-1`,
        describe: () => [],
        close: async () => {},
        async analyse(): Promise<ProviderReport> {
          asked[name].resolve();
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`${other} was never asked while ${name} waited`)),
              10_000,
            );
          });
          await Promise.race([asked[other].promise, timeout]).finally(() => clearTimeout(timer));
          return {
            fields: { subject_matter: { value: subject, confidence: 0.9 } },
            raw: {},
            usedModels: true,
          };
        },
      }) satisfies AnalysisProvider;
    const config = loadConfig({ DATABASE_URL: t.url, STORAGE_DIR: path.join(dir, 'storage') });
    // Bytes no earlier test ingested: a duplicate would reuse that item's analysis instead.
    const unique = path.join(dir, 'unique-cat.jpg');
    await sharp(SAMPLE('cat-chelsea.png')).rotate(180).jpeg().toFile(unique);
    const [id] = await ingestFiles(t.db, [unique], { userId: 9, role: 'product', isTestData: true });
    const images = createImageRuntime(config.imageMemoryMb);
    try {
      const steps = buildPipeline(config, t.db, new FsObjectStore(config.storageDir), {
        images,
        providers: [provider('remote', 'openai', 'a cat'), provider('openai', 'remote', 'a tabby')],
      });
      await makeWorker(t.db, steps).run();
    } finally {
      await images.close();
    }
    const analysis = await findAnalysis(t.db, id!);
    expect(analysis).toMatchObject({ provider: 'remote,openai' });
    // The later provider in the list wins a field both report, as when they ran one by one.
    expect(parseJson(analysis!.field_sources)).toMatchObject({ subject_matter: { provider: 'openai' } });
  }, 60_000);
});
