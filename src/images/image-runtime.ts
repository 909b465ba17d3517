/**
 * What image work shares in one process: the memory budget decodes and
 * encodes take turns on, and the thread background removal runs in. The
 * composition root builds one, hands it to the steps, and closes it.
 */
import { ImageMemoryBudget } from './memory-budget.js';
import { createPixelThread, type PixelThread } from './pixel-thread.js';

export interface ImageRuntime {
  readonly memory: ImageMemoryBudget;
  readonly pixels: PixelThread;
  close(): Promise<void>;
}

export function createImageRuntime(imageMemoryMb: number): ImageRuntime {
  const pixels = createPixelThread();
  return { memory: new ImageMemoryBudget(imageMemoryMb), pixels, close: () => pixels.stop() };
}
