/** ON_DEMAND_SIZES: validated at the edge with the problem named; the sizes it leaves to /serve; their expected dimensions. */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  eagerSizesFor,
  expectedDimensions,
  missingOnDemandVariants,
} from '../../src/images/on-demand-sizes.js';
import { SIZES } from '../../src/images/presets.js';

describe('on-demand sizes', () => {
  it('validates ON_DEMAND_SIZES and ON_DEMAND_CONCURRENCY, naming the variable and the problem', () => {
    expect(loadConfig({}).onDemandSizes).toEqual(['zoom']);
    expect(loadConfig({ ON_DEMAND_SIZES: 'none' }).onDemandSizes).toEqual([]);
    expect(loadConfig({ ON_DEMAND_SIZES: 'zoom, header' }).onDemandSizes).toEqual(['zoom', 'header']);
    expect(() => loadConfig({ ON_DEMAND_SIZES: 'grid' })).toThrow(
      /ON_DEMAND_SIZES.*"grid" is a size every item has/,
    );
    expect(() => loadConfig({ ON_DEMAND_SIZES: 'huge' })).toThrow(/ON_DEMAND_SIZES.*"huge" is not a size/);
    expect(() => loadConfig({ ON_DEMAND_CONCURRENCY: '0' })).toThrow(/ON_DEMAND_CONCURRENCY/);
    expect(() => loadConfig({ SERVE_MEMORY_CACHE_MB: '-1' })).toThrow(/SERVE_MEMORY_CACHE_MB/);
  });

  it('leaves the on-demand sizes out of the eager ones, and lists them while the original is kept', () => {
    expect(eagerSizesFor('event', 4000, 3000, ['zoom'])).toEqual([
      'thumbnail',
      'small',
      'grid',
      'detail',
      'header',
    ]);
    const stored = [
      { size: 'detail', format: 'avif', bg: 'original' },
      { size: 'detail', format: 'jpeg', bg: 'original' },
      { size: 'zoom', format: 'jpeg', bg: 'original' },
    ];
    const item = { role: 'event', width: 4000, height: 3000, bulk_path: 'bulk/x.jpg' };
    expect(missingOnDemandVariants(item, stored).map((v) => `${v.size}/${v.format}`)).toEqual([
      'header/avif',
      'header/jpeg',
      'zoom/avif',
    ]);
    expect(missingOnDemandVariants({ ...item, bulk_path: null }, stored)).toEqual([]);
  });

  it('predicts the dimensions sharp gives each on-demand size', async () => {
    for (const [width, height] of [
      [4000, 3000],
      [2401, 1799],
      [1333, 3999],
      [1000, 800],
      [3000, 500],
    ] as const) {
      const raw = await sharp({ create: { width, height, channels: 3, background: '#888' } })
        .raw()
        .toBuffer();
      for (const size of ['zoom', 'header'] as const) {
        const box = SIZES[size];
        const { info } = await sharp(raw, { raw: { width, height, channels: 3 } })
          .resize(box.width, box.height, { fit: box.fit, withoutEnlargement: true })
          .raw()
          .toBuffer({ resolveWithObject: true });
        expect(expectedDimensions(size, width, height), `${size} of ${width}×${height}`).toEqual({
          width: info.width,
          height: info.height,
        });
      }
    }
  });
});
