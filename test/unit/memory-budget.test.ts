/** The image memory budget: big operations take turns, small ones share, an oversized one runs alone. */
import { afterEach, describe, expect, it } from 'vitest';
import { setImageMemoryBudget, withImageMemory } from '../../src/images/memory-budget.js';

const MB = 2 ** 20;

/** Runs jobs of the given sizes (MB) at once; returns the most that were ever running together. */
async function mostAtOnce(sizes: number[]): Promise<number> {
  let running = 0;
  let most = 0;
  await Promise.all(
    sizes.map((size) =>
      withImageMemory(size * MB, async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        running--;
      }),
    ),
  );
  return most;
}

describe('image memory budget', () => {
  afterEach(() => setImageMemoryBudget(128));

  it('lets small operations run together', async () => {
    setImageMemoryBudget(100);
    expect(await mostAtOnce([10, 10, 10, 10])).toBe(4);
  });

  it('makes large operations take turns', async () => {
    setImageMemoryBudget(100);
    expect(await mostAtOnce([60, 60, 60])).toBe(1);
  });

  it('runs an operation larger than the whole budget alone instead of never', async () => {
    setImageMemoryBudget(100);
    expect(await mostAtOnce([500, 10])).toBe(1);
  });

  it('gives the budget back when an operation fails', async () => {
    setImageMemoryBudget(100);
    await expect(withImageMemory(90 * MB, () => Promise.reject(new Error('encoder failed')))).rejects.toThrow(
      'encoder failed',
    );
    expect(await mostAtOnce([90])).toBe(1);
  });
});
