/**
 * The admin API on 127.0.0.1, on each database, with really processed
 * sample images: every action (requeue by ids and by filter, heal, cleanup
 * dry run and real, test-data deletion, pause and resume) and the audit row
 * it leaves; auth and scope; unknown and invalid fields; the pause stopping
 * a real worker loop's claims and showing in stats, /readyz and /metrics;
 * and the built CLI's pause/resume/audit/delete-test-data writing to the
 * same audit table.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminSettingsOf, type AdminContext } from '../../src/admin/admin-context.js';
import { cleanupAction } from '../../src/admin/cleanup-action.js';
import type { StorageReport } from '../../src/admin/storage-report.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { AuditRecord } from '../../src/db/admin-audit.js';
import { findChecklist, findMedia } from '../../src/db/records.js';
import { failUnclaimedItem } from '../../src/db/unclaimed-failure.js';
import { createServer } from '../../src/http/server.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import { silentLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { SAMPLE } from '../helpers/image-fixtures.js';
import { addItems, makeWorker } from '../helpers/in-process-worker.js';
import { withPipeline } from '../helpers/pipeline.js';
import { runCli, waitFor } from '../helpers/processes.js';
import { serverStorage, testServerOptions } from '../helpers/server-storage.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { trivialSteps } from '../helpers/trivial-steps.js';

const MEDIA_KEY = 'media-api-key-0123456789';
const ALICE_KEY = 'alice-admin-key-0123456789';
const HOUR = 3_600_000;

interface Answer<T = Record<string, unknown>> {
  outcome: 'ok' | 'refused';
  detail: string;
  result: T;
}

describe.each(availableDialects())('the admin API on %s', (dialect) => {
  let t: TestDatabase;
  let dir: string;
  let config: Config;
  let store: FsObjectStore;
  let server: FastifyInstance;
  let base: string;
  let env: Record<string, string>;
  const id: Record<string, number> = {};

  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-admin-'));
    env = { DATABASE_URL: t.url, STORAGE_DIR: path.join(dir, 'storage'), ANALYSIS_PROVIDERS: 'local' };
    config = loadConfig(env);
    store = new FsObjectStore(config.storageDir);
    const notAnImage = path.join(dir, 'notes.jpg');
    fs.writeFileSync(notAnImage, 'this is text pretending to be a JPEG\n');
    const ingest = async (file: string, userId: number, isTestData: boolean) =>
      (await ingestFiles(t.db, [file], { userId, role: 'product', isTestData }))[0]!;
    id.prodA = await ingest(SAMPLE('cat-chelsea.png'), 3, false);
    id.prodB = await ingest(SAMPLE('coffee-cup.png'), 3, false);
    id.notImage = await ingest(notAnImage, 3, false);
    id.testA = await ingest(SAMPLE('hubble-deep-field.jpg'), 9, true);
    id.testB = await ingest(SAMPLE('market-street-sign.jpg'), 9, true);
    id.testC = await ingest(SAMPLE('street-sign-text.png'), 10, true);
    await withPipeline(config, t.db, store, (steps) => makeWorker(t.db, steps).run());
    // As App does: the scraped gauges (media_worker_paused among them) read this database.
    const metrics = new Metrics();
    metrics.watchQueue(t.db, config.storageDir);
    server = createServer(
      testServerOptions(t.db, {
        ...serverStorage(store),
        metrics,
        mediaApiKey: MEDIA_KEY,
        adminKeys: [{ name: 'alice', key: ALICE_KEY }],
        admin: { store, settings: adminSettingsOf(config) },
      }),
    );
    base = await server.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const call = (method: string, url: string, body?: unknown, key: string | null = ALICE_KEY) =>
    fetch(`${base}${url}`, {
      method,
      headers: {
        ...(key === null ? {} : { authorization: `Bearer ${key}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  async function ok<T = Record<string, unknown>>(method: string, url: string, body?: unknown): Promise<T> {
    const response = await call(method, url, body);
    const text = await response.text();
    expect(response.status, `${method} ${url}: ${text}`).toBe(200);
    return JSON.parse(text) as T;
  }
  const latestAudit = async (action?: string) =>
    (
      await ok<{ entries: AuditRecord[] }>(
        'GET',
        `/api/admin/audit?limit=1${action ? `&action=${action}` : ''}`,
      )
    ).entries[0]!;

  it('refuses callers without the admin scope: no key 401, a bad key 401, the media key 403', async () => {
    for (const [method, url] of [
      ['GET', '/api/admin/stats'],
      ['POST', '/api/admin/pause'],
      ['DELETE', '/api/admin/test-data'],
      ['GET', '/api/admin/audit'],
    ] as const) {
      const none = await call(method, url, undefined, null);
      expect(none.status, `${method} ${url}`).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      expect((await call(method, url, undefined, 'not-a-key-0123456789')).status).toBe(401);
      const media = await call(method, url, undefined, MEDIA_KEY);
      expect(media.status).toBe(403);
      expect(await media.json()).toMatchObject({
        error: 'forbidden',
        message: expect.stringContaining('platform'),
      });
    }
    // Nothing was done: not even a refused row, since no action ran.
    const audit = await ok<{ entries: AuditRecord[] }>('GET', '/api/admin/audit');
    expect(audit.entries).toEqual([]);
  });

  it('refuses unknown and invalid fields with a 400 naming them, does nothing, and audits each refused action', async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/api/admin/cleanup', { dryrun: true }, 'dryrun'],
      ['POST', '/api/admin/cleanup', { dry_run: 'maybe' }, 'dry_run'],
      ['POST', '/api/admin/requeue', { ids: [1], step: 'polish' }, 'step'],
      ['POST', '/api/admin/requeue', { ids: ['x'] }, 'ids.0'],
      ['POST', '/api/admin/requeue', {}, 'ids'],
      ['POST', '/api/admin/requeue', { ids: [1], since: '1h' }, 'since'],
      ['POST', '/api/admin/heal', { limit: 0 }, 'limit'],
      ['POST', '/api/admin/pause', { reason: 'x', force: true }, 'force'],
      ['DELETE', '/api/admin/test-data', { older_than: 'yesterday' }, 'older_than'],
      ['DELETE', '/api/admin/test-data', { id: [1] }, 'id'],
    ];
    for (const [method, url, body, field] of cases) {
      const response = await call(method, url, body);
      const answer = (await response.json()) as { error: string; field: string; message: string };
      expect(response.status, `${url} ${JSON.stringify(body)}: ${answer.message}`).toBe(400);
      expect(answer).toMatchObject({ error: 'bad_request', field });
      expect(answer.message).toContain(field.split('.')[0]);
    }
    // Each refused action left one `refused` row: who, what, the parameters as sent, the message.
    const audit = await ok<{ entries: AuditRecord[] }>('GET', '/api/admin/audit');
    const actions = cases.map(([, url]) =>
      url.endsWith('test-data') ? 'delete-test-data' : url.split('/')[3],
    );
    expect(audit.entries.map((e) => [e.actor, e.action, e.outcome])).toEqual(
      actions.reverse().map((action) => ['alice', action, 'refused']),
    );
    const refusal = (index: number) => audit.entries[cases.length - 1 - index]!;
    // An unknown field (the unknown-field hook).
    expect(refusal(0)).toMatchObject({
      action: 'cleanup',
      parameters: { body: { dryrun: true } },
      detail: expect.stringContaining('dryrun is not a known field'),
    });
    // A schema type error (fastify's validation).
    expect(refusal(3)).toMatchObject({
      action: 'requeue',
      parameters: { body: { ids: ['x'] } },
      detail: expect.stringContaining('ids.0'),
    });
    // Neither ids nor failed (the route's own check).
    expect(refusal(4)).toMatchObject({
      action: 'requeue',
      parameters: { body: {} },
      detail: 'ids must name at least one item, or give failed: true',
    });
    expect(refusal(5)).toMatchObject({ detail: 'since only applies with failed: true' });

    // Reads are not audited, refused or not.
    expect((await call('GET', '/api/admin/stats')).status).toBe(200);
    expect((await call('GET', '/api/admin/stats?store=maybe')).status).toBe(400);
    const query = await call('GET', '/api/admin/audit?actr=alice');
    expect(query.status).toBe(400);
    expect(await query.json()).toMatchObject({ field: 'actr' });
    // Filters in both the body and the query; a body too large for a row is kept truncated.
    const both = await call('DELETE', '/api/admin/test-data?user_id=9', { dry_run: true });
    expect(both.status).toBe(400);
    expect(await latestAudit()).toMatchObject({
      action: 'delete-test-data',
      outcome: 'refused',
      parameters: { body: { dry_run: true }, query: { user_id: '9' } },
      detail: 'give the filters in the JSON body or in the query, not both',
    });
    const long = await call('POST', '/api/admin/pause', { reason: 'x'.repeat(20_000) });
    expect(long.status).toBe(400);
    const truncated = await latestAudit();
    expect(truncated).toMatchObject({ action: 'pause', outcome: 'refused' });
    expect(JSON.stringify(truncated.parameters).length).toBeLessThan(5_000);
    expect(truncated.parameters).toMatchObject({
      truncated: expect.stringMatching(/^\{"body":\{"reason":"x+$/),
    });
    expect((await ok<{ entries: AuditRecord[] }>('GET', '/api/admin/audit?limit=100')).entries).toHaveLength(
      cases.length + 2,
    );
    // Nothing was done.
    expect((await ok<{ pause: { paused: boolean } }>('GET', '/api/admin/stats')).pause.paused).toBe(false);
  });

  it('takes a JSON body’s types as sent: dry_run null, 0 or "yes" is a 400 naming it, and nothing is deleted', async () => {
    const orphan = 'library/user_3/product/img/434343_grid.webp';
    fs.mkdirSync(path.dirname(store.pathOf(orphan)), { recursive: true });
    fs.writeFileSync(store.pathOf(orphan), 'nobody points at me');
    const old = new Date(Date.now() - 2 * HOUR);
    fs.utimesSync(store.pathOf(orphan), old, old);
    const snapshot = async () => ({
      media: await t.db('media_files').select('*').orderBy('id'),
      checklist: await t.db('processing_checklist').select('*').orderBy('media_id'),
    });
    const before = await snapshot();
    // fastify's ajv coerces (null, 0 and "" to false, "5" to 5): fine for a query, never for a JSON body.
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/api/admin/cleanup', { dry_run: null }, 'dry_run'],
      ['POST', '/api/admin/cleanup', { orphans: true, dry_run: 0 }, 'dry_run'],
      ['POST', '/api/admin/cleanup', { dry_run: 'yes' }, 'dry_run'],
      ['POST', '/api/admin/cleanup', { dry_run: '' }, 'dry_run'],
      ['DELETE', '/api/admin/test-data', { user_id: 9, dry_run: null }, 'dry_run'],
      ['DELETE', '/api/admin/test-data', { user_id: 9, dry_run: 0 }, 'dry_run'],
      ['DELETE', '/api/admin/test-data', { user_id: 9, dry_run: 'yes' }, 'dry_run'],
      ['DELETE', '/api/admin/test-data', { user_id: '9', dry_run: true }, 'user_id'],
      ['DELETE', '/api/admin/test-data', { ids: [String(id.testA)], dry_run: true }, 'ids.0'],
      ['POST', '/api/admin/requeue', { ids: [id.notImage], failed: 0 }, 'failed'],
      ['POST', '/api/admin/requeue', { ids: id.notImage }, 'ids'],
      ['POST', '/api/admin/heal', { limit: '5' }, 'limit'],
    ];
    for (const [method, url, body, field] of cases) {
      const response = await call(method, url, body);
      const answer = (await response.json()) as { error: string; field: string; message: string };
      expect(response.status, `${url} ${JSON.stringify(body)}: ${answer.message}`).toBe(400);
      expect(answer).toEqual({ error: 'bad_request', field, message: expect.stringContaining(field) });
      expect(await latestAudit()).toMatchObject({ outcome: 'refused', parameters: { body } });
    }
    expect(await snapshot()).toEqual(before);
    expect(fs.existsSync(store.pathOf(orphan))).toBe(true);
    fs.rmSync(store.pathOf(orphan));
    // A query string is still text, coerced as before: limit=1 is the number 1.
    expect((await ok<{ entries: AuditRecord[] }>('GET', '/api/admin/audit?limit=1')).entries).toHaveLength(1);
  });

  it('test-data filters in the query have the body’s limits: positive ids, at most 1000, a positive user_id', async () => {
    const thousandAndOne = Array.from({ length: 1001 }, (_, i) => i + 1).join(',');
    const cases: Array<[string, unknown, string]> = [
      ['?ids=0', undefined, 'ids'],
      [`?ids=${id.testA},0`, undefined, 'ids'],
      [`?ids=${thousandAndOne}`, undefined, 'ids'],
      ['?user_id=0', undefined, 'user_id'],
      ['?user_id=007', undefined, 'user_id'],
      ['', { user_id: 0 }, 'user_id'],
      ['', { ids: [0] }, 'ids.0'],
      ['', { ids: Array.from({ length: 1001 }, (_, i) => i + 1) }, 'ids'],
    ];
    for (const [query, body, field] of cases) {
      const response = await call('DELETE', `/api/admin/test-data${query}`, body);
      const answer = (await response.json()) as { error: string; field: string; message: string };
      expect(response.status, `${query} ${JSON.stringify(body)}: ${answer.message}`).toBe(400);
      expect(answer).toMatchObject({ error: 'bad_request', field });
    }
    const count = await call('DELETE', `/api/admin/test-data?ids=${thousandAndOne}`);
    expect(((await count.json()) as { message: string }).message).toBe(
      'ids must name at most 1000 items (got 1001)',
    );
    for (const kept of [id.testA!, id.testB!, id.testC!])
      expect((await findMedia(t.db, kept))?.status).toBe('completed');
  });

  it('requeues by ids, from a step, and leaves an audit row under the key’s name', async () => {
    const answer = await ok<Answer<{ requeued: number[]; skipped: unknown[] }>>(
      'POST',
      '/api/admin/requeue',
      {
        ids: [id.prodA],
        step: 'callback',
      },
    );
    expect(answer).toMatchObject({ outcome: 'ok', result: { requeued: [id.prodA], skipped: [] } });
    expect((await findChecklist(t.db, id.prodA!))?.state).toBe('queued');
    // A served item stays served while its callback is re-sent.
    expect((await findMedia(t.db, id.prodA!))?.status).toBe('completed');
    const row = await latestAudit();
    expect(row).toMatchObject({
      actor: 'alice',
      action: 'requeue',
      parameters: { ids: [id.prodA], failed: false, step: 'callback' },
      outcome: 'ok',
      detail: 'requeued 1 of 1 selected, skipped 0',
    });
    expect(row.at).toBeGreaterThan(Date.now() - 60_000);

    const unknown = await ok<Answer>('POST', '/api/admin/requeue', { ids: [999_999] });
    expect(unknown).toMatchObject({
      outcome: 'refused',
      result: { skipped: [{ id: 999_999, reason: 'no such item' }] },
    });
    expect(await latestAudit()).toMatchObject({ outcome: 'refused', parameters: { ids: [999_999] } });
  });

  it('requeues by filter: the failed items of the last hour, from retrieve', async () => {
    expect((await findChecklist(t.db, id.notImage!))?.state).toBe('failed');
    const answer = await ok<Answer<{ requeued: number[] }>>('POST', '/api/admin/requeue', {
      failed: true,
      since: '1h',
      step: 'retrieve',
    });
    expect(answer.result.requeued).toEqual([id.notImage]);
    expect(await latestAudit()).toMatchObject({
      actor: 'alice',
      action: 'requeue',
      parameters: { ids: [], failed: true, failed_within_ms: HOUR, step: 'retrieve' },
      outcome: 'ok',
    });
  });

  it('heals a transiently failed item now', async () => {
    await failUnclaimedItem(t.db, id.prodB!, {
      step: 'resize',
      errorClass: 'TRANSIENT',
      message: 'EIO: test',
    });
    const answer = await ok<Answer<{ healed: number[] }>>('POST', '/api/admin/heal', {});
    expect(answer.result.healed).toContain(id.prodB);
    expect(await latestAudit()).toMatchObject({
      actor: 'alice',
      action: 'heal',
      parameters: { limit: config.healBatch },
      outcome: 'ok',
      detail: expect.stringMatching(/^re-queued \d+ item\(s\)$/),
    });
    // Let the requeued and healed items finish, so the rest of the file sees a settled queue.
    await withPipeline(config, t.db, store, (steps) => makeWorker(t.db, steps).run());
    expect((await findMedia(t.db, id.prodB!))?.status).toBe('completed');
  });

  it('requeue with no step leaves a served item served: skipped with the reason, in the answer and the audit; failed ones still go', async () => {
    const served = id.prodA!;
    expect((await findMedia(t.db, served))?.status).toBe('completed');
    expect((await findChecklist(t.db, served))?.state).toBe('completed');
    const reason = 'completed and served: name a step (analyse, resize or callback) to re-run it';
    const alone = await ok<Answer<{ requeued: number[]; skipped: unknown[] }>>('POST', '/api/admin/requeue', {
      ids: [served],
    });
    expect(alone).toMatchObject({
      outcome: 'refused',
      result: { requeued: [], skipped: [{ id: served, reason }] },
    });
    expect((await findMedia(t.db, served))?.status).toBe('completed');
    expect((await findChecklist(t.db, served))?.state).toBe('completed');
    expect(await latestAudit()).toMatchObject({
      action: 'requeue',
      outcome: 'refused',
      detail: `requeued 0 of 1 selected, skipped 1; ${reason}: ${served}`,
    });

    // A mixed selection: the failed item is requeued from its failed step, the served one skipped.
    expect((await findChecklist(t.db, id.notImage!))?.state).toBe('failed');
    const mixed = await ok<Answer<{ requeued: number[]; skipped: unknown[] }>>('POST', '/api/admin/requeue', {
      ids: [served, id.notImage],
    });
    expect(mixed).toMatchObject({
      outcome: 'ok',
      result: { requeued: [id.notImage], skipped: [{ id: served, reason }] },
    });
    expect((await findMedia(t.db, served))?.status).toBe('completed');
    expect(await latestAudit()).toMatchObject({
      outcome: 'ok',
      detail: `requeued 1 of 2 selected, skipped 1; ${reason}: ${served}`,
    });
    await withPipeline(config, t.db, store, (steps) => makeWorker(t.db, steps).run());
    expect((await findChecklist(t.db, id.notImage!))?.state).toBe('failed');

    // A named step is honoured, and the item stays served while it runs.
    const callback = await ok<Answer>('POST', '/api/admin/requeue', { ids: [served], step: 'callback' });
    expect(callback).toMatchObject({ outcome: 'ok', result: { requeued: [served], skipped: [] } });
    expect((await findMedia(t.db, served))?.status).toBe('completed');
    await withPipeline(config, t.db, store, (steps) => makeWorker(t.db, steps).run());
    expect((await findChecklist(t.db, served))?.state).toBe('completed');
  });

  it('refuses an explicit retrieve of a served item whose original and source are both gone', async () => {
    const served = id.prodA!;
    const row = (await t.db('media_files').where({ id: served }).first()) as Record<string, unknown>;
    const keep = { source: row.source, source_path: row.source_path, bulk_path: row.bulk_path };
    const tryRetrieve = async (source: string, sourcePath: string) => {
      await t
        .db('media_files')
        .where({ id: served })
        .update({ source, source_path: sourcePath, bulk_path: null });
      return ok<Answer<{ skipped: Array<{ id: number; reason: string }> }>>('POST', '/api/admin/requeue', {
        ids: [served],
        step: 'retrieve',
      });
    };
    try {
      // A main-API upload: the upstream temp file is removed once the item is delivered.
      const mainApi = await tryRetrieve('main_api', 'uploads/tmp/cat.png');
      expect(mainApi).toMatchObject({ outcome: 'refused', result: { requeued: [] } });
      expect(mainApi.result.skipped[0]!.reason).toMatch(
        /^served, and its original is gone \(not kept, and the main API’s temp file is removed\): a retrieve would fail it/,
      );
      // An HTTP upload whose incoming/ object cleanup has removed.
      const http = await tryRetrieve('http', 'incoming/2026-12-01/removed-long-ago.png');
      expect(http.result.skipped[0]!.reason).toContain(
        'the upload incoming/2026-12-01/removed-long-ago.png is removed',
      );
      expect(await latestAudit()).toMatchObject({
        outcome: 'refused',
        parameters: { ids: [served], step: 'retrieve' },
        detail: expect.stringContaining('a retrieve would fail it'),
      });
      expect((await findMedia(t.db, served))?.status).toBe('completed');
      expect((await findChecklist(t.db, served))?.state).toBe('completed');
    } finally {
      await t.db('media_files').where({ id: served }).update(keep);
    }
  });

  it('cleans up: a dry run changes nothing, the real run removes the expired item and the orphan', async () => {
    const orphan = 'library/user_3/product/img/424242_grid.webp';
    fs.mkdirSync(path.dirname(store.pathOf(orphan)), { recursive: true });
    fs.writeFileSync(store.pathOf(orphan), 'nobody points at me');
    const old = new Date(Date.now() - 2 * HOUR);
    fs.utimesSync(store.pathOf(orphan), old, old);
    await t
      .db('media_files')
      .where({ id: id.prodB })
      .update({ expires_at: Date.now() - HOUR });
    const prodBFiles = await storedFiles(id.prodB!);
    expect(prodBFiles.length).toBeGreaterThan(1);

    type Report = Answer<{ dryRun: boolean; expiredItems: number[]; orphanFiles: string[] }>;
    const dry = await ok<Report>('POST', '/api/admin/cleanup', {
      expired: true,
      orphans: true,
      dry_run: true,
    });
    expect(dry.result).toMatchObject({ dryRun: true, expiredItems: [id.prodB], orphanFiles: [orphan] });
    expect(fs.existsSync(store.pathOf(orphan))).toBe(true);
    expect((await findMedia(t.db, id.prodB!))?.status).toBe('completed');
    expect(await latestAudit()).toMatchObject({
      action: 'cleanup',
      parameters: { expired: true, orphans: true, test_data: false, dry_run: true },
      outcome: 'ok',
      detail: expect.stringContaining('dry run, would remove: 1 expired item(s)'),
    });

    const real = await ok<Report>('POST', '/api/admin/cleanup', {});
    expect(real.result).toMatchObject({ dryRun: false, expiredItems: [id.prodB], orphanFiles: [orphan] });
    expect(fs.existsSync(store.pathOf(orphan))).toBe(false);
    expect((await findMedia(t.db, id.prodB!))?.status).toBe('deleted');
    for (const file of prodBFiles) expect(fs.existsSync(store.pathOf(file)), file).toBe(false);
    expect(await latestAudit()).toMatchObject({
      actor: 'alice',
      parameters: { expired: true, orphans: true, dry_run: false },
      detail: expect.stringContaining('removed: 1 expired item(s)'),
    });
  });

  it('records a failed action with its message (the shared function, on a store that cannot be listed)', async () => {
    const broken = path.join(dir, 'broken-store');
    fs.mkdirSync(broken);
    fs.symlinkSync('bulk', path.join(broken, 'bulk')); // a loop: listing it fails with ELOOP
    const brokenStore = new FsObjectStore(broken);
    const context: AdminContext = {
      db: t.db,
      log: silentLogger(),
      store: brokenStore,
      settings: adminSettingsOf(config),
    };
    await expect(
      cleanupAction(context, 'alice', { expired: false, orphans: true, testData: false, dryRun: true }),
    ).rejects.toThrow(/ELOOP/);
    expect(await latestAudit('cleanup')).toMatchObject({
      actor: 'alice',
      outcome: 'failed',
      detail: expect.stringContaining('ELOOP'),
    });
  });

  it('deletes test data only: a production id named refuses the request, then a filter deletes test rows and files', async () => {
    const testAFiles = await storedFiles(id.testA!);
    const refused = await call('DELETE', '/api/admin/test-data', { ids: [id.testA, id.prodA] });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({
      error: 'conflict',
      field: 'ids',
      message: expect.stringContaining(`${id.prodA} is production data`),
    });
    expect((await findMedia(t.db, id.testA!))?.status).toBe('completed');
    expect((await findMedia(t.db, id.prodA!))?.status).toBe('completed');
    expect(await latestAudit()).toMatchObject({
      actor: 'alice',
      action: 'delete-test-data',
      parameters: { ids: [id.testA, id.prodA], dry_run: false },
      outcome: 'refused',
    });
    // The same refusal through the query form.
    expect((await call('DELETE', `/api/admin/test-data?ids=${id.prodA}`)).status).toBe(409);

    const dry = await ok<Answer<{ deleted: number[] }>>(
      'DELETE',
      '/api/admin/test-data?user_id=9&dry_run=true',
    );
    expect(dry.result.deleted).toEqual([id.testA, id.testB]);
    expect(testAFiles.every((file) => fs.existsSync(store.pathOf(file)))).toBe(true);

    const done = await ok<Answer<{ deleted: number[] }>>('DELETE', '/api/admin/test-data', { user_id: 9 });
    expect(done).toMatchObject({ outcome: 'ok', result: { deleted: [id.testA, id.testB], refused: [] } });
    for (const gone of [id.testA!, id.testB!]) expect((await findMedia(t.db, gone))?.status).toBe('deleted');
    for (const file of testAFiles) expect(fs.existsSync(store.pathOf(file)), file).toBe(false);
    expect((await findMedia(t.db, id.testC!))?.status).toBe('completed');
    expect((await findMedia(t.db, id.prodA!))?.status).toBe('completed');
    expect((await fetch(`${base}/serve/${id.testA}`)).status).toBe(410);
    expect(await latestAudit()).toMatchObject({
      action: 'delete-test-data',
      parameters: { ids: null, user_id: 9, older_than_ms: null, dry_run: false },
      outcome: 'ok',
      detail: 'deleted 2 test data item(s)',
    });
  });

  it('reports storage: totals, by type and format, dedup, retention removals, the disk and its alert flag', async () => {
    const report = await ok<StorageReport>('GET', '/api/admin/storage?store=true');
    expect(report.total.files).toBe(report.byArea.bulk.files + report.byArea.library.files);
    expect(report.total.bytes).toBeGreaterThan(0);
    expect(Object.keys(report.byDataType)).toEqual(['product']);
    expect(Object.keys(report.bytesByFormat).sort()).toEqual(['avif', 'jpeg', 'webp']);
    expect(report.dedup).toEqual({ hits: 0, bytesSaved: 0 });
    // The store holds exactly what the rows point at (cleanup removed the orphan).
    expect(report.store?.library.objects).toBe(report.byArea.library.files);
    expect(report.store?.bulk.objects).toBe(report.byArea.bulk.files);
    expect(report.retention.itemsDeleted).toEqual({ total: 3, lastDay: 3, lastWeek: 3 });
    expect(report.retention.perDay.itemsDeleted).toBeCloseTo(3 / 7, 2);
    expect(report.retention.variantFilesDeleted).toBeNull();
    expect(report.retention.lastCleanup).toMatchObject({ action: 'cleanup', actor: 'alice' });
    expect(report.disk).toMatchObject({ alertPercent: config.diskAlertPercent, alert: expect.any(Boolean) });
    expect(report.bucket).toBeNull();
    expect(Object.keys(report.unknown)).toEqual(['retention.variantFilesDeleted']);
    const unlisted = await ok<StorageReport>('GET', '/api/admin/storage');
    expect(unlisted.store).toBeNull();
    expect(unlisted.unknown.store).toContain('store=true');
  });

  it('cleanup checks the store first, as the CLI does: a store that cannot be used is a 500, nothing changes, the audit says failed', async () => {
    const file = path.join(dir, 'not-a-directory');
    fs.writeFileSync(file, 'a file where the store should be\n');
    const wrongStore = new FsObjectStore(path.join(file, 'storage'));
    const settings = {
      ...adminSettingsOf(config),
      storage: { ...adminSettingsOf(config).storage, storageUrl: undefined, storageDir: wrongStore.root },
    };
    const wrong = createServer(
      testServerOptions(t.db, {
        ...serverStorage(store),
        mediaApiKey: MEDIA_KEY,
        adminKeys: [{ name: 'alice', key: ALICE_KEY }],
        admin: { store: wrongStore, settings },
      }),
    );
    const wrongBase = await wrong.listen({ host: '127.0.0.1', port: 0 });
    try {
      const snapshot = async () => ({
        media: await t.db('media_files').select('*').orderBy('id'),
        checklist: await t.db('processing_checklist').select('*').orderBy('media_id'),
      });
      const before = await snapshot();
      const response = await fetch(`${wrongBase}/api/admin/cleanup`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ALICE_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ orphans: true }),
      });
      const answer = (await response.json()) as { error: string; message: string };
      expect(response.status, answer.message).toBe(500);
      expect(answer).toEqual({
        error: 'internal_error',
        message: expect.stringContaining(`STORAGE_DIR ${wrongStore.root} cannot be used`),
      });
      expect(await snapshot()).toEqual(before);
      expect(await latestAudit('cleanup')).toMatchObject({
        actor: 'alice',
        parameters: { expired: false, orphans: true, dry_run: false },
        outcome: 'failed',
        detail: expect.stringContaining('cannot be used'),
      });
    } finally {
      await wrong.close();
    }
  });

  it('pauses the fleet: a worker claims nothing while items are due; stats, /readyz and /metrics say so; resume lets them finish', async () => {
    const ids = await addItems(t.db, 3);
    const paused = await ok<Answer<{ paused: boolean; pausedBy: string }>>('POST', '/api/admin/pause', {
      reason: 'database maintenance',
    });
    expect(paused).toMatchObject({ outcome: 'ok', result: { paused: true, pausedBy: 'alice' } });
    expect(await latestAudit()).toMatchObject({
      actor: 'alice',
      action: 'pause',
      parameters: { reason: 'database maintenance' },
      outcome: 'ok',
    });

    const runLog = path.join(dir, 'runs.log');
    const worker = makeWorker(t.db, trivialSteps({ runLog, workerId: 'w1' }), {
      once: false,
      workerId: 'w1',
    });
    const running = worker.run();
    try {
      // Many poll intervals (20 ms) while three items are due: nothing is claimed.
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (const item of ids) expect((await findChecklist(t.db, item))?.claim_token).toBeNull();
      expect(fs.existsSync(runLog)).toBe(false);

      const stats = await ok<{ pause: Record<string, unknown>; queue: { dueNow: number } }>(
        'GET',
        '/api/admin/stats',
      );
      expect(stats.pause).toMatchObject({ paused: true, pausedBy: 'alice', reason: 'database maintenance' });
      expect(stats.queue.dueNow).toBeGreaterThanOrEqual(3);
      const ready = await fetch(`${base}/readyz`);
      const readyBody = (await ready.json()) as {
        paused: boolean;
        checks: { paused: { ok: boolean; detail: string } };
      };
      expect(ready.status, JSON.stringify(readyBody)).toBe(200);
      expect(readyBody.paused).toBe(true);
      expect(readyBody.checks.paused).toMatchObject({
        ok: true,
        detail: expect.stringMatching(/^paused by alice since .*: database maintenance$/),
      });
      expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^media_worker_paused 1$/m);

      // A second pause keeps the first one's author and time.
      const again = await ok<Answer>('POST', '/api/admin/pause');
      expect(again.detail).toMatch(/^already paused by alice since /);

      await ok('POST', '/api/admin/resume');
      await waitFor(
        async () => {
          const states = await Promise.all(ids.map(async (item) => (await findChecklist(t.db, item))?.state));
          return states.every((state) => state === 'completed');
        },
        'the items to complete after resume',
        10_000,
      );
      expect(fs.readFileSync(runLog, 'utf8').trim().split('\n')).toHaveLength(6);
      expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^media_worker_paused 0$/m);
      expect(((await (await fetch(`${base}/readyz`)).json()) as { paused: boolean }).paused).toBe(false);
    } finally {
      worker.stop();
      await running;
    }
    expect(await latestAudit()).toMatchObject({ action: 'resume', actor: 'alice', detail: 'fleet resumed' });
  });

  it('the CLI’s pause, resume, audit and delete-test-data land in the same audit table as the API’s actions', async () => {
    const user = `cli:${os.userInfo().username}`;
    const pause = await runCli(['pause', '--reason', 'from the CLI'], env);
    expect(pause.code, pause.stderr).toBe(0);
    expect(pause.stdout).toContain('fleet paused');
    const stats = await runCli(['stats', '--json'], env);
    expect(stats.code, stats.stderr).toBe(0);
    expect((JSON.parse(stats.stdout) as { pause: unknown }).pause).toMatchObject({
      paused: true,
      pausedBy: user,
      reason: 'from the CLI',
    });
    const human = await runCli(['stats'], env);
    expect(human.stdout).toContain(`fleet: PAUSED by ${user}`);
    // The API sees the CLI's pause.
    expect((await ok<{ pause: { paused: boolean } }>('GET', '/api/admin/stats')).pause.paused).toBe(true);
    const resume = await runCli(['resume'], env);
    expect(resume.code, resume.stderr).toBe(0);

    const refused = await runCli(['delete-test-data', String(id.prodA), '--json'], env);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ deleted: [], refused: [{ id: id.prodA }] });
    expect((await findMedia(t.db, id.prodA!))?.status).toBe('completed');

    const audit = await runCli(['audit', '--json', '--limit', '100'], env);
    expect(audit.code, audit.stderr).toBe(0);
    const rows = JSON.parse(audit.stdout) as AuditRecord[];
    expect(rows.slice(0, 3).map((r) => [r.actor, r.action, r.outcome])).toEqual([
      [user, 'delete-test-data', 'refused'],
      [user, 'resume', 'ok'],
      [user, 'pause', 'ok'],
    ]);
    expect(rows.some((r) => r.actor === 'alice' && r.action === 'requeue')).toBe(true);
    const byActor = await runCli(['audit', '--actor', user, '--action', 'pause'], env);
    expect(byActor.stdout).toContain('from the CLI');
    expect(byActor.stdout).not.toContain('alice');

    // The API lists the CLI's rows too, newest first, page by page.
    const first = await ok<{ entries: AuditRecord[]; next_cursor: string | null }>(
      'GET',
      '/api/admin/audit?limit=2',
    );
    expect(first.entries.map((e) => e.action)).toEqual(['delete-test-data', 'resume']);
    const second = await ok<{ entries: AuditRecord[] }>(
      'GET',
      `/api/admin/audit?limit=2&cursor=${first.next_cursor}`,
    );
    expect(second.entries[0]).toMatchObject({ action: 'pause', actor: user });
    const alice = await ok<{ entries: AuditRecord[] }>(
      'GET',
      '/api/admin/audit?actor=alice&action=pause&limit=100',
    );
    // Two pauses, and before them the two refused with a 400 (an unknown field, a reason too long).
    expect(alice.entries.map((e) => [e.actor, e.outcome])).toEqual([
      ['alice', 'ok'],
      ['alice', 'ok'],
      ['alice', 'refused'],
      ['alice', 'refused'],
    ]);
  });

  it('documents every admin route in the OpenAPI document, with a summary and Bearer security', async () => {
    const document = (await (await fetch(`${base}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { summary?: string; security?: unknown; tags?: string[] }>>;
    };
    const expected = [
      ['get', '/api/admin/stats'],
      ['get', '/api/admin/storage'],
      ['get', '/api/admin/audit'],
      ['post', '/api/admin/requeue'],
      ['post', '/api/admin/heal'],
      ['post', '/api/admin/cleanup'],
      ['post', '/api/admin/pause'],
      ['post', '/api/admin/resume'],
      ['delete', '/api/admin/test-data'],
    ];
    for (const [method, url] of expected) {
      const operation = document.paths[url!]?.[method!];
      expect(operation, `${method} ${url}`).toBeDefined();
      expect(operation).toMatchObject({ tags: ['admin'], security: [{ bearer: [] }] });
      expect(operation!.summary).toBeTruthy();
    }
  });

  /** The keys of an item's files: its original and its variants. */
  async function storedFiles(mediaId: number): Promise<string[]> {
    const media = await findMedia(t.db, mediaId);
    const variants = (await t.db('media_variants').where({ media_id: mediaId }).pluck('path')) as string[];
    return [...(media?.bulk_path ? [media.bulk_path] : []), ...variants];
  }
});
