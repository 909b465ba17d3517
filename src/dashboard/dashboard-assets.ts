/**
 * The dashboard's own stylesheet and script (assets/dashboard/), read once
 * at start and served from memory under a content-hashed URL, so a browser
 * may keep them for a year and a new release is fetched at once. Nothing is
 * loaded from anywhere else: no CDN, no web fonts.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PACKAGE } from '../package-dir.js';

interface Asset {
  body: Buffer;
  type: string;
  url: string;
}

const FILES: Record<string, string> = {
  'dashboard.css': 'text/css; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
};

export interface DashboardAssets {
  /** The hashed URL of an asset, for the layout's <link> and <script>. */
  urlOf(name: string): string;
}

function loadAssets(): Map<string, Asset> {
  if (!PACKAGE.dir) throw new Error('the package directory (with assets/dashboard/) was not found');
  const assets = new Map<string, Asset>();
  for (const [name, type] of Object.entries(FILES)) {
    const body = fs.readFileSync(path.join(PACKAGE.dir, 'assets', 'dashboard', name));
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
    assets.set(name, { body, type, url: `/admin/assets/${hash}/${name}` });
  }
  return assets;
}

export function registerDashboardAssets(app: FastifyInstance): DashboardAssets {
  const assets = loadAssets();
  const byUrl = new Map([...assets.values()].map((asset) => [asset.url, asset]));
  app.get('/admin/assets/:hash/:name', { schema: { hide: true } }, async (request, reply) => {
    const asset = byUrl.get(request.url.split('?')[0]!);
    if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('no such asset');
    return reply
      .header('Cache-Control', 'public, max-age=31536000, immutable')
      .type(asset.type)
      .send(asset.body);
  });
  return {
    urlOf: (name) => {
      const asset = assets.get(name);
      if (!asset) throw new Error(`no dashboard asset ${name}`);
      return asset.url;
    },
  };
}
