/** Free and used space of the file system holding the storage directory. */
import fsp from 'node:fs/promises';

export interface DiskUsage {
  freeBytes: number;
  totalBytes: number;
  usedPercent: number;
}

export async function diskUsage(directory: string): Promise<DiskUsage> {
  const stats = await fsp.statfs(directory);
  const totalBytes = stats.blocks * stats.bsize;
  const freeBytes = stats.bavail * stats.bsize;
  return { freeBytes, totalBytes, usedPercent: Number((100 * (1 - stats.bavail / stats.blocks)).toFixed(1)) };
}
