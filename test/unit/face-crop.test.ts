/** Cover crops that keep faces whole. */
import { describe, expect, it } from 'vitest';
import { cropAroundFaces } from '../../src/images/face-crop.js';

describe('cropAroundFaces', () => {
  it('keeps a face at the right edge of a wide image inside a square crop', () => {
    const window = cropAroundFaces({ width: 3000, height: 1000 }, { width: 300, height: 300 }, [
      [0.9, 0.3, 0.05, 0.2],
    ])!;
    expect(window).toEqual({ left: 2000, top: 0, width: 1000, height: 1000 });
    expect(window.left).toBeLessThanOrEqual(0.9 * 3000);
    expect(window.left + window.width).toBeGreaterThanOrEqual(0.95 * 3000);
  });

  it('centres on the faces together', () => {
    const window = cropAroundFaces({ width: 4000, height: 1000 }, { width: 1, height: 1 }, [
      [0.3, 0.4, 0.02, 0.1],
      [0.4, 0.4, 0.02, 0.1],
    ])!;
    expect(window.left).toBeLessThan(0.3 * 4000);
    expect(window.left + window.width).toBeGreaterThan(0.42 * 4000);
  });

  it('leaves the choice to libvips when there are no faces', () => {
    expect(cropAroundFaces({ width: 10, height: 10 }, { width: 1, height: 1 }, [])).toBeUndefined();
  });
});
