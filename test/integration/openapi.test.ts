/**
 * GET /api/openapi.json: a valid OpenAPI 3.1 document (checked against the
 * official schema by @seriousme/openapi-schema-validator) that names every
 * route the server has, generated from the route schemas; and the docs page
 * and the API's error shape for an unknown route.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../../src/http/server.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { serverStorage, testServerOptions } from '../helpers/server-storage.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { summary?: string; security?: unknown[] }>>;
}

/** fastify's `/a/:id` is OpenAPI's `/a/{id}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('the OpenAPI document', () => {
  let t: TestDatabase;
  let dir: string;
  let server: FastifyInstance;
  let base: string;
  const routes: Array<{ method: string; url: string }> = [];

  beforeAll(async () => {
    t = await createTestDatabase('sqlite');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-openapi-'));
    server = createServer(
      testServerOptions(t.db, {
        ...serverStorage(new FsObjectStore(path.join(dir, 'storage'))),
        mediaApiKey: 'media-api-key-0123456789',
      }),
    );
    server.addHook('onRoute', (route) => {
      const hidden = (route.schema as { hide?: boolean } | undefined)?.hide === true;
      for (const method of [route.method].flat())
        if (method !== 'HEAD' && !hidden) routes.push({ method: method.toLowerCase(), url: route.url });
    });
    base = await server.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server.close();
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function fetchDocument(): Promise<OpenApiDocument> {
    const response = await fetch(`${base}/api/openapi.json`);
    expect(response.status).toBe(200);
    return (await response.json()) as OpenApiDocument;
  }

  it('is a valid OpenAPI 3.1 document', async () => {
    const document = await fetchDocument();
    expect(document.openapi).toBe('3.1.0');
    const result = await new Validator().validate(
      document as unknown as Parameters<Validator['validate']>[0],
    );
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('has every route of the server, each with a summary', async () => {
    const document = await fetchDocument();
    expect(routes.length).toBeGreaterThan(8);
    for (const { method, url } of routes) {
      const operation = document.paths[openApiPath(url)]?.[method];
      expect(operation, `${method.toUpperCase()} ${url} is missing`).toBeDefined();
      expect(operation!.summary, `${method.toUpperCase()} ${url} has no summary`).toBeTruthy();
    }
  });

  it('marks every /api route but the document itself as needing a Bearer key', async () => {
    const document = await fetchDocument();
    for (const [url, operations] of Object.entries(document.paths)) {
      if (!url.startsWith('/api/') || url === '/api/openapi.json') continue;
      for (const [method, operation] of Object.entries(operations))
        expect(operation.security, `${method} ${url}`).toEqual([{ bearer: [] }]);
    }
  });

  it('serves the docs page', async () => {
    const response = await fetch(`${base}/api/docs/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('swagger');
  });

  it('answers an unknown route with the API error shape', async () => {
    const response = await fetch(`${base}/api/nothing-here?x=1`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'not_found', message: 'no route GET /api/nothing-here' });
  });
});
