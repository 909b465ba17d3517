/**
 * CONTRACT.md end to end: `media-worker run` as a real process against a fake
 * main API (a real server on 127.0.0.1) and a real database, fed good uploads
 * and every kind of bad one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeMainApi, startTrap } from '../helpers/fake-main-api.js';
import { SAMPLE } from '../helpers/image-fixtures.js';
import { CLI, start, waitFor } from '../helpers/processes.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const KEY = 'e2e-secret-key';

describe('main API integration, end to end', () => {
  let t: TestDatabase;
  let dir: string;
  const api = new FakeMainApi();
  let trap: Awaited<ReturnType<typeof startTrap>>;

  beforeAll(async () => {
    t = await createTestDatabase(availableDialects().includes('mysql') ? 'mysql' : 'sqlite');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-e2e-api-'));
    await api.start();
    trap = await startTrap();
  });
  afterAll(async () => {
    await api.stop();
    await trap.stop();
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('completes good uploads once each, reports permanent failures once each, and contacts no other origin', async () => {
    const oversize = await sharp(SAMPLE('hubble-deep-field.jpg'))
      .resize(3000)
      .jpeg({ quality: 100 })
      .toBuffer();
    api.add({
      id: 101,
      userId: 7,
      imagePath: '/temp_images/products/7-product-1704110400-111.png',
      file: fs.readFileSync(SAMPLE('cat-chelsea.png')),
    });
    api.add({
      id: 102,
      userId: 7,
      imagePath: '/temp_images/logos/7-logo-1704110400-222.png',
      file: fs.readFileSync(SAMPLE('scikit-image-logo.png')),
    });
    api.add({
      id: 103,
      userId: 8,
      imagePath: '/temp_images/headers/8-header-1704110400.jpg',
      file: fs.readFileSync(SAMPLE('hubble-deep-field.jpg')),
      extra: { unknown_field: { nested: true }, mime_type: null },
    });
    api.add({
      id: 201,
      imagePath: '/temp_images/products/9-product-1704110400-333.jpg',
      file: Buffer.from('I am a text file, not a JPEG'),
    });
    api.add({ id: 202, imagePath: '/temp_images/products/9-product-1704110400-444.jpg' }); // 404
    api.add({ id: 203, imagePath: '/temp_images/products/9-product-1704110400-555.jpg', file: oversize });
    api.add({ id: 204, imagePath: '/temp_images/../../etc/passwd' });
    api.add({ id: 205, imagePath: '/temp_images/%252e%252e/secret.jpg' });
    api.add({
      id: 206,
      imagePath: '/temp_images/x/9-banner-1704110400.png',
      file: fs.readFileSync(SAMPLE('coffee-cup.png')),
    });
    api.rawEntries.push(
      { id: 301, user_id: 9, image_path: `${trap.url}/temp_images/9-product-1.jpg` },
      { user_id: 9, image_path: '/temp_images/no-id.jpg' },
      { id: 302 },
    );

    const env = {
      DATABASE_URL: t.url,
      STORAGE_DIR: path.join(dir, 'storage'),
      MAIN_API_URL: api.url,
      MEDIA_API_KEY: KEY,
      PUBLIC_BASE_URL: 'https://media.example.org',
      POLL_INTERVAL_MS: '50',
      IDLE_MAX_MS: '250',
      RETRY_BASE_MS: '50',
      GONE_CONFIRM_MS: '100',
      MAX_UPLOAD_BYTES: String(oversize.length - 1),
      CONCURRENCY: '2',
    };
    const worker = start(process.execPath, [CLI, 'run', '--no-serve'], env);
    try {
      const reported = (id: number) => api.calls('DELETE', new RegExp(`/cleanup/${id}$`)).length > 0;
      await waitFor(
        () => api.pending.size === 0 && reported(301) && reported(302),
        'every upload to be completed or cleaned up',
        90_000,
      );
      // Let a few more poll cycles pass: nothing may be sent twice.
      const polls = api.calls('GET', /pending/).length;
      await waitFor(() => api.calls('GET', /pending/).length >= polls + 3, 'three more polls');
    } finally {
      worker.child.kill('SIGTERM');
    }
    const result = await worker.finished;
    expect(result.code, result.stderr).toBe(0);

    for (const request of api.requests) expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(trap.hits).toEqual([]);

    const completes = api.calls('POST', /^\/api\/media\/complete\//);
    expect(completes.map((c) => c.url).sort()).toEqual([
      '/api/media/complete/101',
      '/api/media/complete/102',
      '/api/media/complete/103',
    ]);
    const rows = (await t.db('media_files').select('id', 'main_api_id', 'status', 'role')) as Array<{
      id: number;
      main_api_id: number;
      status: string;
      role: string;
    }>;
    const byMainId = new Map(rows.map((r) => [Number(r.main_api_id), r]));
    for (const call of completes) {
      const mainId = Number(call.url.split('/').pop());
      const mediaId = Number(byMainId.get(mainId)!.id);
      const body = JSON.parse(call.body) as Record<string, unknown>;
      expect(call.headers['idempotency-key']).toBe(`media-${mediaId}`);
      expect(body).toMatchObject({
        media_id: String(mediaId),
        permanent_url: `https://media.example.org/serve/${mediaId}`,
        processing_complete: true,
        ai_enhanced: true,
      });
      expect(body.sizes_available).toEqual(expect.arrayContaining(['thumbnail', 'small', 'grid', 'detail']));
      const ai = body.ai_analysis as Record<string, unknown>;
      expect(ai.quality_score).toEqual(expect.any(Number));
      // The models provider ran inside `run` (its packages are installed): labels, objects, moderation.
      expect(ai).toMatchObject({
        medium: expect.any(String),
        subject_matter: expect.any(String),
        style: expect.any(String),
        detected_objects: expect.any(Array),
        moderation: { flagged: false },
        flagged: false,
      });
      if (mainId === 102) {
        expect(body.formats_available).toEqual(['avif', 'webp', 'jpeg', 'png']);
        expect(ai.brand_colors).toEqual(expect.any(Array));
        expect(ai.background_removed).toBe(true);
      } else {
        expect(body.formats_available).toEqual(['avif', 'webp', 'jpeg']);
        expect(ai.brand_colors).toBeUndefined();
      }
      if (mainId === 103) expect(body.sizes_available).toContain('header');
    }

    const cleanups = api
      .calls('DELETE', /^\/api\/media\/cleanup\//)
      .map((c) => c.url)
      .sort();
    // 301 (an absolute URL) and 302 (no image_path) have usable ids: imported, failed, reported once.
    expect(cleanups).toEqual(
      [201, 202, 203, 204, 205, 206, 301, 302].map((id) => `/api/media/cleanup/${id}`),
    );
    const failures = (await t
      .db('media_files as m')
      .join('processing_checklist as c', 'c.media_id', 'm.id')
      .select('m.main_api_id', 'c.last_error_class', 'c.last_error')) as Array<{
      main_api_id: number;
      last_error_class: string | null;
      last_error: string | null;
    }>;
    const failure = (id: number) => failures.find((f) => Number(f.main_api_id) === id)!;
    expect(failure(201)).toMatchObject({
      last_error_class: 'INVALID_INPUT',
      last_error: expect.stringMatching(/not an image/),
    });
    expect(failure(202)).toMatchObject({ last_error_class: 'GONE' });
    expect(failure(203)).toMatchObject({
      last_error_class: 'INVALID_INPUT',
      last_error: expect.stringMatching(/MAX_UPLOAD_BYTES/),
    });
    expect(failure(204)).toMatchObject({
      last_error_class: 'INVALID_INPUT',
      last_error: expect.stringMatching(/tries to leave/),
    });
    expect(failure(205)).toMatchObject({
      last_error_class: 'INVALID_INPUT',
      last_error: expect.stringMatching(/tries to leave/),
    });
    expect(failure(206)).toMatchObject({
      last_error_class: 'INVALID_INPUT',
      last_error: expect.stringMatching(/unknown upload type "banner"/),
    });
    expect(failure(301)).toMatchObject({
      last_error_class: 'INVALID_INPUT',
      last_error: expect.stringMatching(/must be a \/temp_images\/… path/),
    });
    expect(failure(302)).toMatchObject({ last_error_class: 'INVALID_INPUT' });
    expect(api.calls('GET', /temp_images\/products\/9-product-1704110400-444/)).toHaveLength(2); // 404 asked twice
    // Nothing lost: every upload with an id has exactly one row; the entry without one has none.
    expect([...byMainId.keys()].sort((a, b) => a - b)).toEqual([
      101, 102, 103, 201, 202, 203, 204, 205, 206, 301, 302,
    ]);
    expect(api.requests.every((r) => !r.url.includes('/etc/passwd') && !r.url.includes('secret'))).toBe(true);
  });
});
