/**
 * mkdir -p that answers: Node 20's recursive mkdir never returns under /proc
 * (ENOENT with an existing parent), which made run spin and /readyz hang.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDirectory, makeDirectorySync } from '../../src/storage/make-directory.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-mkdir-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('makeDirectory', () => {
  it('creates every missing level, and accepts one that exists', async () => {
    const nested = path.join(dir, 'a', 'b', 'c');
    await makeDirectory(nested);
    expect(fs.statSync(nested).isDirectory()).toBe(true);
    await makeDirectory(nested);
    makeDirectorySync(path.join(dir, 'a', 'd'));
    expect(fs.statSync(path.join(dir, 'a', 'd')).isDirectory()).toBe(true);
  });

  it('fails, rather than looping, where mkdir says ENOENT under an existing parent', async () => {
    await expect(makeDirectory('/proc/nonexistent/x')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => makeDirectorySync('/proc/nonexistent/x')).toThrow(/ENOENT/);
  });

  it('refuses a path whose level is a file', async () => {
    const file = path.join(dir, 'file');
    fs.writeFileSync(file, '');
    await expect(makeDirectory(path.join(file, 'x'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(makeDirectory(file)).rejects.toMatchObject({ code: 'EEXIST' });
  });
});
