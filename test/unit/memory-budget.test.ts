/** The image memory budget: big operations take turns, small ones share, an oversized one runs alone. */
import { describe, expect, it } from 'vitest';
import { ImageMemoryBudget } from '../../src/images/memory-budget.js';

const MB = 2 ** 20;

/** Runs jobs of the given sizes (MB) at once; returns the most that were ever running together. */
async function mostAtOnce(budget: ImageMemoryBudget, sizes: number[]): Promise<number> {
  let running = 0;
  let most = 0;
  await Promise.all(
    sizes.map((size) =>
      budget.run(size * MB, async () => {
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
  it('lets small operations run together', async () => {
    expect(await mostAtOnce(new ImageMemoryBudget(100), [10, 10, 10, 10])).toBe(4);
  });

  it('makes large operations take turns', async () => {
    expect(await mostAtOnce(new ImageMemoryBudget(100), [60, 60, 60])).toBe(1);
  });

  it('runs an operation larger than the whole budget alone instead of never', async () => {
    expect(await mostAtOnce(new ImageMemoryBudget(100), [500, 10])).toBe(1);
  });

  it('gives the budget back when an operation fails', async () => {
    const budget = new ImageMemoryBudget(100);
    await expect(budget.run(90 * MB, () => Promise.reject(new Error('encoder failed')))).rejects.toThrow(
      'encoder failed',
    );
    expect(await mostAtOnce(budget, [90])).toBe(1);
  });

  it('keeps budgets apart: one runtime waiting never holds up another', async () => {
    const busy = new ImageMemoryBudget(100);
    let release!: () => void;
    const holding = busy.run(100 * MB, () => new Promise<void>((resolve) => (release = resolve)));
    expect(await mostAtOnce(new ImageMemoryBudget(100), [60])).toBe(1);
    release();
    await holding;
  });
});
