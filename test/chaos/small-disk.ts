/**
 * A small file system for STORAGE_DIR: a tmpfs of a few MB mounted by the
 * test (we run as root in CI), filled with a ballast file until ENOSPC, and
 * unmounted afterwards. Where the machine refuses mounts (an unprivileged
 * container) the scenario says so; under CI=true that is a failure, never a
 * silent skip.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Why a tmpfs cannot be mounted here, or undefined when it can (tried for real). */
export function tmpfsRefused(): string | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-mount-probe-'));
  try {
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { encoding: 'utf8' });
    if (mounted.error) return `cannot run mount: ${mounted.error.message}`;
    if (mounted.status !== 0) return `mount -t tmpfs refused: ${mounted.stderr.trim()}`;
    spawnSync('umount', [dir]);
    return undefined;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function mountTmpfs(dir: string, sizeMb: number): void {
  fs.mkdirSync(dir, { recursive: true });
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'tmpfs', dir], {
    encoding: 'utf8',
  });
  if (mounted.status !== 0) throw new Error(`mount -t tmpfs on ${dir} failed: ${mounted.stderr.trim()}`);
}

/** Unmounts (lazily if something still holds it open); never throws. */
export function unmount(dir: string): void {
  if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
}

/** Writes a ballast file until the file system is full; returns its path and size. */
export function fillDisk(dir: string): { file: string; bytes: number } {
  const file = path.join(dir, 'ballast.bin');
  const fd = fs.openSync(file, 'w');
  let bytes = 0;
  try {
    for (const chunk of [1 << 20, 64 << 10, 4 << 10, 512]) {
      const buffer = Buffer.alloc(chunk, 0x55);
      for (;;) {
        try {
          bytes += fs.writeSync(fd, buffer);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return { file, bytes };
}

export function freeBytes(dir: string): number {
  const stats = fs.statfsSync(dir);
  return stats.bavail * stats.bsize;
}
