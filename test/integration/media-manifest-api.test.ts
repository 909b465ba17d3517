/**
 * GET /api/media/:id/manifest on 127.0.0.1 with images really processed by
 * the pipeline (local analysis and the models): a photo, an EXIF-rotated
 * JPEG, an OCR sign, a logo on white (bg=removed variants), every srcset url
 * served at the dimensions the manifest claims, the ThumbHash placeholder,
 * the alt text rules on the real analysis rows, escaping in the <picture>
 * snippet, auth / 400 / 404 / 409 not_ready / 410 gone, and the completion
 * callback (a fake main API) carrying the same manifest with absolute urls.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { thumbHashToRGBA } from 'thumbhash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { markItemDeleted } from '../../src/db/item-deletion.js';
import { findAnalysisRecord, listVariants } from '../../src/db/media-outputs.js';
import { findMedia } from '../../src/db/records.js';
import { createServer } from '../../src/http/server.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import type { Role } from '../../src/media-roles.js';
import { altText } from '../../src/manifest/alt-text.js';
import { buildManifest, type MediaManifest } from '../../src/manifest/media-manifest.js';
import { escapeHtml, pictureHtml } from '../../src/manifest/picture-html.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { FakeMainApi } from '../helpers/fake-main-api.js';
import * as fixtures from '../helpers/image-fixtures.js';
import { makeWorker } from '../helpers/in-process-worker.js';
import { fakeMainApiClient, fakeMainApiPoller } from '../helpers/main-api-clients.js';
import { withPipeline } from '../helpers/pipeline.js';
import { serverStorage, testServerOptions } from '../helpers/server-storage.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const KEY = 'media-api-key-0123456789';
const PUBLIC = 'https://media.example.org';
const MAIN_ID = 7001;

describe('GET /api/media/:id/manifest', () => {
  let t: TestDatabase;
  let dir: string;
  let api: FakeMainApi;
  let server: FastifyInstance;
  let base: string;
  const id: Record<string, number> = {};

  beforeAll(async () => {
    t = await createTestDatabase('sqlite');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-manifest-'));
    api = new FakeMainApi();
    await api.start();
    const config = loadConfig({
      DATABASE_URL: t.url,
      STORAGE_DIR: path.join(dir, 'storage'),
      MAIN_API_URL: api.url,
      MEDIA_API_KEY: KEY,
      PUBLIC_BASE_URL: PUBLIC,
    });
    const storage = new FsObjectStore(config.storageDir);
    const ingest = async (file: string, role: Role = 'product') =>
      (await ingestFiles(t.db, [file], { userId: 3, role, isTestData: false }))[0]!;
    id.photo = await ingest(fixtures.SAMPLE('cat-chelsea.png'));
    id.rotated = await ingest(fixtures.writeFixture(dir, 'rotated.jpg', await fixtures.exifRotatedJpeg()));
    id.sign = await ingest(fixtures.SAMPLE('market-street-sign.jpg'));
    id.logo = await ingest(fixtures.writeFixture(dir, 'logo.png', await fixtures.flatLogoOnWhite()), 'logo');
    id.toDelete = await ingest(fixtures.SAMPLE('hubble-deep-field.jpg'));
    const notAnImage = path.join(dir, 'notes.jpg');
    fs.writeFileSync(notAnImage, 'this is text pretending to be a JPEG\n');
    id.failed = await ingest(notAnImage);
    api.add({
      id: MAIN_ID,
      userId: 3,
      imagePath: `/temp_images/p/3-product-1704110400-${MAIN_ID}.png`,
      file: fs.readFileSync(fixtures.SAMPLE('coffee-cup.png')),
    });
    const client = fakeMainApiClient(api, { timeoutMs: 10_000 });
    await fakeMainApiPoller(t.db, client).pollOnce();
    await withPipeline(config, t.db, storage, (steps) => makeWorker(t.db, steps).run(), { mainApi: client });
    const fromMain = (await t.db('media_files').where({ main_api_id: MAIN_ID }).first('id')) as {
      id: number;
    };
    id.fromMain = Number(fromMain.id);
    await markItemDeleted(t.db, id.toDelete, 'test', Date.now());
    id.pending = await ingest(fixtures.SAMPLE('coffee-cup.png'));
    server = createServer(
      testServerOptions(t.db, {
        ...serverStorage(storage),
        mediaApiKey: KEY,
      }),
    );
    base = await server.listen({ host: '127.0.0.1', port: 0 });
  }, 180_000);
  afterAll(async () => {
    await server?.close();
    await api?.stop();
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = (url: string, key: string | null = KEY) =>
    fetch(`${base}${url}`, key === null ? {} : { headers: { authorization: `Bearer ${key}` } });
  const manifestOf = async (mediaId: number) => {
    const response = await get(`/api/media/${mediaId}/manifest`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    return (await response.json()) as MediaManifest;
  };
  const srcsetUrls = (srcset: string) =>
    srcset.split(', ').map((entry) => {
      const [url, width] = entry.split(' ');
      return { url: url!, width: Number(width!.replace(/w$/, '')) };
    });

  it('a photo: dimensions, aspect ratio, variants with serve urls, srcsets of the whole picture', async () => {
    const m = await manifestOf(id.photo!);
    expect(m).toMatchObject({ media_id: id.photo, width: 451, height: 300, aspect_ratio: 1.5033 });
    expect(Object.keys(m)).toEqual([
      'media_id',
      'width',
      'height',
      'aspect_ratio',
      'variants',
      'srcset',
      'placeholder',
      'dominant_color',
      'alt',
      'picture',
    ]);
    // product, smaller than zoom: 4 sizes × avif, webp, jpeg.
    expect(m.variants).toHaveLength(12);
    for (const v of m.variants) {
      expect(Object.keys(v)).toEqual(['size', 'format', 'bg', 'url', 'width', 'height', 'bytes']);
      expect(v.url).toBe(`/serve/${id.photo}?size=${v.size}&format=${v.format}&bg=${v.bg}`);
      expect(v.bg).toBe('original');
    }
    expect(Object.keys(m.srcset)).toEqual(['avif', 'webp', 'jpeg']);
    for (const [format, srcset] of Object.entries(m.srcset)) {
      const entries = srcsetUrls(srcset);
      const widths = entries.map((e) => e.width);
      expect(widths).toEqual([...widths].sort((a, b) => a - b));
      expect(new Set(widths).size).toBe(widths.length);
      // Only the uncropped sizes: the square thumbnail and grid crops are not the same picture.
      for (const entry of entries) {
        const variant = m.variants.find((v) => v.url === entry.url)!;
        expect(variant).toMatchObject({ format, bg: 'original', width: entry.width });
        expect(['small', 'detail', 'zoom']).toContain(variant.size);
      }
    }
    expect(m.dominant_color).toMatch(/^#[0-9a-f]{6}$/i);
  });

  it('every srcset url answers 200 with an image of the dimensions the manifest claims', async () => {
    for (const mediaId of [id.photo!, id.rotated!, id.logo!]) {
      const m = await manifestOf(mediaId);
      for (const [format, srcset] of Object.entries(m.srcset)) {
        for (const entry of srcsetUrls(srcset)) {
          const served = await fetch(`${base}${entry.url}`);
          expect(served.status, entry.url).toBe(200);
          const meta = await sharp(Buffer.from(await served.arrayBuffer())).metadata();
          const claimed = m.variants.find((v) => v.url === entry.url)!;
          expect(meta.format).toBe(format === 'avif' ? 'heif' : format);
          expect([meta.width, meta.height], entry.url).toEqual([claimed.width, claimed.height]);
        }
      }
    }
  });

  it('an EXIF-rotated JPEG: the dimensions as displayed (oriented), as its variants are', async () => {
    const m = await manifestOf(id.rotated!);
    expect([m.width, m.height, m.aspect_ratio]).toEqual([200, 400, 0.5]);
    for (const v of m.variants.filter((v) => v.size === 'small' || v.size === 'detail')) {
      expect(v.height).toBeGreaterThan(v.width);
    }
  });

  it('a logo: bg=removed variants listed under bg=removed, srcsets only bg=original, PNG fallback', async () => {
    const m = await manifestOf(id.logo!);
    const removed = m.variants.filter((v) => v.bg === 'removed');
    expect(removed.length).toBeGreaterThan(0);
    for (const v of removed) expect(v.url).toContain('&bg=removed');
    expect(new Set(removed.map((v) => v.format))).toEqual(new Set(['avif', 'webp', 'png']));
    expect(Object.keys(m.srcset)).toEqual(['avif', 'webp', 'jpeg', 'png']);
    for (const srcset of Object.values(m.srcset)) {
      for (const entry of srcsetUrls(srcset)) expect(entry.url).toContain('&bg=original');
    }
    expect(m.picture).toMatch(/<img src="[^"]*format=png&amp;bg=original"/);
    expect(m.aspect_ratio).toBe(2);
  });

  it('the placeholder: the stored ThumbHash, decoding to the small PNG of the data url', async () => {
    const m = await manifestOf(id.photo!);
    const media = (await findMedia(t.db, id.photo!))!;
    expect(m.placeholder!.thumbhash).toBe(media.thumbhash);
    const decoded = thumbHashToRGBA(Buffer.from(m.placeholder!.thumbhash, 'base64'));
    expect(Math.max(decoded.w, decoded.h)).toBeLessThanOrEqual(32);
    // The hash keeps the shape: 451×300 → wider than tall.
    expect(decoded.w).toBeGreaterThan(decoded.h);
    const [, b64] = m.placeholder!.data_url.split('data:image/png;base64,');
    const png = await sharp(Buffer.from(b64!, 'base64')).metadata();
    expect([png.format, png.width, png.height]).toEqual(['png', decoded.w, decoded.h]);
    // An item resized before the column existed has no placeholder.
    await t.db('media_files').where({ id: id.rotated }).update({ thumbhash: null });
    expect((await manifestOf(id.rotated!)).placeholder).toBeNull();
  });

  it('alt text from the real analysis rows: kind, objects, faces, text read; nothing invented', async () => {
    const cat = await findAnalysisRecord(t.db, id.photo!);
    const sign = await findAnalysisRecord(t.db, id.sign!);
    const logo = await findAnalysisRecord(t.db, id.logo!);
    const catAlt = (await manifestOf(id.photo!)).alt;
    expect(catAlt).toBe(altText(cat));
    // Every word of the alt text is in the row it came from.
    const labels = ((cat!.detected_objects as { label: string; score: number }[] | null) ?? [])
      .filter((o) => o.score >= 0.5)
      .map((o) => o.label);
    if (cat!.medium_detected === 'photo') expect(catAlt).toMatch(/^Photo[:.]/);
    // Without a kind word (medium unknown) the first label is capitalised.
    for (const label of labels.slice(0, 1)) expect(catAlt.toLowerCase()).toContain(label);
    const signAlt = (await manifestOf(id.sign!)).alt;
    const read = (sign!.detected_text as { text?: string } | null)?.text?.replace(/\s+/g, ' ').trim();
    if (read) expect(signAlt).toContain(`Text: '${read.slice(0, 79)}`);
    expect(signAlt).toMatch(/MARKET|STREET/i);
    expect((await manifestOf(id.logo!)).alt).toBe(altText(logo));
    expect(altText(undefined)).toBe('');
  });

  it('alt text rules on edited copies of a real row', async () => {
    const row = (await findAnalysisRecord(t.db, id.photo!))!;
    const empty = {
      ...row,
      medium_detected: null,
      subject_matter: null,
      detected_objects: undefined,
      faces: undefined,
      detected_text: undefined,
    };
    expect(altText(empty)).toBe('');
    expect(altText({ ...empty, medium_detected: 'photo' })).toBe('Photo.');
    expect(
      altText({
        ...empty,
        medium_detected: 'photo',
        detected_objects: [
          { label: 'cat', score: 0.9 },
          { label: 'couch', score: 0.7 },
          { label: 'cat', score: 0.6 },
          { label: 'dog', score: 0.3 },
        ],
        faces: { count: 0, boxes: [] },
        detected_text: { text: '  OPEN\n', words: [], language: null },
      }),
    ).toBe("Photo: cat and couch. Text: 'OPEN'.");
    expect(altText({ ...empty, subject_matter: 'animals' })).toBe('Animals.');
    expect(altText({ ...empty, medium_detected: 'drawing-or-flat-art', faces: { count: 2 } })).toBe(
      'Graphic. 2 faces.',
    );
    const long = 'word '.repeat(40);
    expect(altText({ ...empty, detected_text: { text: long } })).toMatch(/^Text: '(word ){15}word…'\.$/);
  });

  it('the <picture> snippet: sources per format, a fallback img, every attribute escaped', async () => {
    const m = await manifestOf(id.photo!);
    expect(m.picture).toMatch(/^<picture><source type="image\/avif" srcset="[^"]+" sizes="100vw">/);
    expect(m.picture).toContain('<source type="image/webp" srcset="');
    expect(m.picture).toMatch(
      /<img src="[^"]+format=jpeg&amp;bg=original" srcset="[^"]+" sizes="100vw" width="\d+" height="\d+" alt="[^"]*" loading="lazy" decoding="async"><\/picture>$/,
    );
    const tricky = `He said "<b>hi</b>" & 'bye'`;
    const media = (await findMedia(t.db, id.photo!))!;
    const analysis = (await findAnalysisRecord(t.db, id.photo!))!;
    const built = await buildManifest(
      {
        media,
        variants: await listVariants(t.db, id.photo!),
        analysis: { ...analysis, detected_text: { text: tricky } },
      },
      '',
    );
    expect(built.alt).toContain(tricky);
    expect(built.picture).toContain(
      `alt="${built.alt.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll("'", '&#39;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')}"`,
    );
    expect(built.picture).not.toMatch(/<b>|"<|'bye'/);
    expect(escapeHtml(`"<>&'`)).toBe('&quot;&lt;&gt;&amp;&#39;');
    const snippet = pictureHtml({
      srcset: { jpeg: '/a?x=1&y=2 10w' },
      img: { format: 'jpeg', url: '/a?x=1&y=2', width: 10, height: 5 },
      alt: `"<>&'`,
    });
    expect(snippet).toBe(
      '<picture><img src="/a?x=1&amp;y=2" srcset="/a?x=1&amp;y=2 10w" sizes="100vw" width="10" height="5" alt="&quot;&lt;&gt;&amp;&#39;" loading="lazy" decoding="async"></picture>',
    );
  });

  it('auth, 400, 404, 409 not_ready (pending or failed), 410 gone: the media API error shape', async () => {
    for (const key of [null, 'wrong']) {
      const response = await get(`/api/media/${id.photo}/manifest`, key);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(await response.json()).toMatchObject({ error: 'unauthorized' });
    }
    const bad = await get('/api/media/abc/manifest');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'bad_request', field: 'id' });
    const missing = await get('/api/media/999999/manifest');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'not_found', message: 'no media item with id 999999' });
    for (const mediaId of [id.pending!, id.failed!]) {
      const notReady = await get(`/api/media/${mediaId}/manifest`);
      expect(notReady.status).toBe(409);
      expect(notReady.headers.get('cache-control')).toBe('no-store');
      const body = (await notReady.json()) as { error: string; message: string };
      expect(body.error).toBe('not_ready');
      expect(body.message).toMatch(new RegExp(`media item ${mediaId} (has no variants yet|failed before)`));
    }
    const gone = await get(`/api/media/${id.toDelete}/manifest`);
    expect(gone.status).toBe(410);
    expect(await gone.json()).toMatchObject({ error: 'gone' });
  });

  it('the completion callback carries the same manifest, its urls absolute on PUBLIC_BASE_URL', async () => {
    const posts = api.calls('POST', new RegExp(`/complete/${MAIN_ID}$`));
    expect(posts).toHaveLength(1);
    const body = JSON.parse(posts[0]!.body) as Record<string, unknown>;
    // Nothing existing changed: the fields before it, then manifest.
    expect(Object.keys(body)).toEqual([
      'media_id',
      'permanent_url',
      'processing_complete',
      'ai_enhanced',
      'formats_available',
      'sizes_available',
      'ai_analysis',
      'manifest',
    ]);
    expect(body.permanent_url).toBe(`${PUBLIC}/serve/${id.fromMain}`);
    const fromRoute = await manifestOf(id.fromMain!);
    const absolute = JSON.parse(
      JSON.stringify(fromRoute).replaceAll(`/serve/${id.fromMain}?`, `${PUBLIC}/serve/${id.fromMain}?`),
    ) as MediaManifest;
    expect(body.manifest).toEqual(absolute);
    expect(fromRoute.placeholder).not.toBeNull();
  });
});
